"""The conversations API: `GET/POST /api/conversations`, `GET/PATCH/DELETE /api/conversations/{id}`.

Whoever holds a visitor token sees the conversations made with it and no others. A client without
one gets a new token from its first `POST /api/conversations` (`visitor_token` in the reply) and
sends it as the X-Visitor-Token header from then on; `/api/ask` with a `conversation_id` reads the
history from the conversation and adds the new turn to it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from assistant.errors import AssistantError
from assistant.records.conversations import Conversations, new_token
from assistant.records.schema import MAX_TITLE_CHARS

VISITOR_HEADER = "X-Visitor-Token"


class TitleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(default="", max_length=MAX_TITLE_CHARS * 4)


def visitor_token(request: Request) -> str:
    """The caller's visitor token; asking for conversations without one is one clear error."""
    token = request.headers.get(VISITOR_HEADER, "").strip()
    if not token:
        raise AssistantError(
            f"send the {VISITOR_HEADER} header that POST /api/conversations gave you (visitor_token)"
        )
    return token


def conversation_routes(conversations: Conversations, quota) -> APIRouter:
    """The routes, each writing one rate-limited by `quota` (the per-client question limit)."""
    router = APIRouter(prefix="/api/conversations", tags=["conversations"])

    @router.get("")
    def list_conversations(request: Request) -> list[dict[str, Any]]:
        """The caller's conversations, the most recently used first."""
        return conversations.list(visitor_token(request))

    @router.post("", status_code=201, dependencies=[Depends(quota)])
    def create(request: Request, body: TitleIn | None = None) -> dict[str, Any]:
        """A new, empty conversation. Without an X-Visitor-Token header a new token is made and
        returned as `visitor_token`: keep it, it is the only way back to the conversation."""
        token = request.headers.get(VISITOR_HEADER, "").strip()
        issued = "" if token else new_token()
        made = conversations.create(token or issued, body.title if body else "")
        return made | ({"visitor_token": issued} if issued else {})

    @router.get("/{conversation_id}")
    def read(conversation_id: str, request: Request) -> dict[str, Any]:
        """The conversation with its turns, each answer as `/api/ask` returned it."""
        return conversations.get(visitor_token(request), conversation_id)

    @router.patch("/{conversation_id}", dependencies=[Depends(quota)])
    def rename(conversation_id: str, body: TitleIn, request: Request) -> dict[str, Any]:
        return conversations.rename(visitor_token(request), conversation_id, body.title)

    @router.delete("/{conversation_id}", dependencies=[Depends(quota)])
    def delete(conversation_id: str, request: Request) -> dict[str, str]:
        conversations.delete(visitor_token(request), conversation_id)
        return {"id": conversation_id, "status": "deleted"}

    return router
