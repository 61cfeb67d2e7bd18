"""The HTTP server: one FastAPI app with the JSON API, the article viewer, the widget, and the Gradio
chat mounted at / (full) and /embed (compact, for iframes).

Errors become `{"error": "..."}` with a 4xx status (5xx only when the store is unreachable), never a
traceback. Which sites may frame the chat and call /api is set by ASSISTANT_EMBED_ORIGINS; who may
change the index, how often a client may ask and how large a request may be, by `guard`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from assistant.answering.answer import passage_json
from assistant.answering.retrieval import Filters
from assistant.errors import (
    AssistantError,
    DatabaseError,
    DateFilterError,
    IndexMismatchError,
    IndexMissingError,
    StoreUnavailableError,
)
from assistant.modes import AnswerMode, Retriever
from assistant.pipeline import MAX_QUERY_CHARS, Assistant, as_of_date
from assistant.records.conversations import ConversationNotFound, Conversations
from assistant.records.feedback import FeedbackLog
from assistant.web.conversations import VISITOR_HEADER, conversation_routes, visitor_token
from assistant.web.guard import (
    UPLOAD_PASS_COOKIE,
    AccessDenied,
    BodyLimit,
    CrossSiteGate,
    Guard,
    RateLimited,
    SecurityHeaders,
    bearer_token,
    client_host,
)
from assistant.web.viewer import article_page, missing_article_page

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
MAX_HISTORY_TURNS = 20
QUEUE_BODY_BYTES = 1_000_000  # a chat turn sent to Gradio's queue carries the conversation so far
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("", "0.0.0.0", "::")  # listening on every address names no host


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FilterIn(Strict):
    doc_ids: list[str] = Field(default_factory=list, max_length=200)
    sources: list[str] = Field(default_factory=list, max_length=50)
    since: str = ""
    until: str = ""


class Turn(Strict):
    question: str = Field(max_length=MAX_QUERY_CHARS)
    answer: str = Field(default="", max_length=20_000)


class AskIn(Strict):
    question: str = Field(max_length=MAX_QUERY_CHARS * 2)
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS)
    filters: FilterIn = Field(default_factory=FilterIn)
    k: int | None = Field(default=None, ge=1, le=50)
    retriever: Retriever | None = None
    mode: AnswerMode | None = None
    conversation_id: str = Field(default="", max_length=64)  # history from, and turn to, this conversation
    as_of: str | None = Field(default=None, max_length=40)  # the day asked, YYYY-MM-DD; default today


class DocumentIn(Strict):
    doc_id: str = Field(max_length=1000)


class FeedbackIn(Strict):
    rating: Literal["up", "down"]
    question: str = Field(max_length=MAX_QUERY_CHARS * 2)
    answer: str = Field(max_length=20_000)
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    comment: str = Field(default="", max_length=2000)
    mode: str = Field(default="", max_length=20)
    conversation_id: str | None = Field(default=None, max_length=64)


def create_app(assistant: Assistant, *, with_ui: bool = True, listen_host: str = "") -> FastAPI:
    """The whole server for one Assistant. It answers to the host names of ASSISTANT_ALLOWED_HOSTS,
    by default to loopback names and `listen_host` (the address it listens on), so that a web page
    whose name was made to point at this machine (DNS rebinding) gets a 400."""
    settings = assistant.settings
    app = FastAPI(
        title="News assistant",
        description="Answers about news articles, every claim cited to the passage behind it.",
        version="1",
        docs_url=None,  # FastAPI's /docs and /redoc load their scripts from a CDN; /openapi.json stays
        redoc_url=None,
    )
    database = assistant.database
    conversations = Conversations(database)
    feedback = FeedbackLog(database, settings.index_dir)
    guard = Guard(settings, database)
    app.state.assistant = assistant
    app.state.database = database
    app.state.feedback = feedback

    def ask_quota(request: Request) -> None:
        """A question (or a rating) from this client: refused with 429 past the rate limit."""
        guard.questions.check(client_host(request))

    def writer(request: Request) -> None:
        """Changing the index or reading what users sent: a key, or this machine without keys."""
        guard.access.check_write(request.headers.get("authorization"), client_host(request))

    limits = {"/api/": settings.max_request_bytes, "/api/documents": settings.max_upload_bytes}
    limits |= {f"{base}/gradio_api/queue/": QUEUE_BODY_BYTES for base in ("", "/embed")}
    app.add_middleware(BodyLimit, limits=limits, timeout_s=settings.body_timeout_s)
    app.add_middleware(  # before the body is read
        CrossSiteGate, access=guard.access, origins=settings.origins, limiter=guard.uploads
    )
    hosts = settings.hosts or [*LOOPBACK_NAMES, *([listen_host] if listen_host not in WILDCARDS else [])]
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)

    if settings.origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Content-Type", "Authorization", VISITOR_HEADER],
        )
    app.add_middleware(SecurityHeaders, frame_ancestors=["'self'", *settings.origins])

    @app.exception_handler(AssistantError)
    async def assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
        status = 400
        if isinstance(exc, IndexMissingError | IndexMismatchError):
            status = 409
        if isinstance(exc, ConversationNotFound):
            status = 404
        if isinstance(exc, StoreUnavailableError | DatabaseError):
            status = 503
        return JSONResponse({"error": str(exc)}, status_code=status)

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse({"error": str(exc)}, status_code=429, headers=headers)

    @app.exception_handler(AccessDenied)
    async def access_denied(request: Request, exc: AccessDenied) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _describe_validation(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:  # the edge: log, one line
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"error": f"internal error ({type(exc).__name__})"}, status_code=500)

    @app.get("/healthz", tags=["status"])
    def healthz() -> JSONResponse:
        report: dict[str, Any] = {"model": settings.embedding_model, "mode": assistant.mode_label}
        try:
            report["store"] = {"ok": True, "chunks": assistant.store.count()}
        except AssistantError as exc:
            report["store"] = {"ok": False, "error": str(exc)}
        try:
            database.ping()
            report["database"] = {"ok": True}
        except AssistantError as exc:
            report["database"] = {"ok": False, "error": str(exc)}
        report["status"] = "ok" if report["store"]["ok"] and report["database"]["ok"] else "degraded"
        # without the database questions are still answered: a balancer keeps the replica
        return JSONResponse(report, status_code=200 if report["store"]["ok"] else 503)

    def ask_options(body: AskIn, request: Request) -> dict[str, Any]:
        options = _ask_options(body)
        if body.conversation_id:
            if body.history:
                raise AssistantError("send either conversation_id or history, not both")
            token = visitor_token(request)
            options["history"] = conversations.history(token, body.conversation_id, MAX_HISTORY_TURNS)
        return options

    def keep(body: AskIn, request: Request, answer: dict) -> dict:
        """The answer, added to its conversation when the question named one."""
        if body.conversation_id:
            conversations.add_turn(visitor_token(request), body.conversation_id, body.question, answer)
        return answer

    @app.post("/api/ask", tags=["answers"], dependencies=[Depends(ask_quota)])
    def ask(body: AskIn, request: Request) -> dict:
        """Answer a question: the same object as `assistant ask --json`. With `conversation_id` (and
        the X-Visitor-Token header) the earlier turns come from that conversation and this one joins it."""
        answer = assistant.ask(body.question, **ask_options(body, request)).to_json()
        return keep(body, request, answer)

    @app.post("/api/ask/stream", tags=["answers"], dependencies=[Depends(ask_quota)])
    def ask_stream(body: AskIn, request: Request) -> StreamingResponse:
        """Server-sent events: `token` (text), `notice` (text), then `answer` (the JSON object)."""
        events = assistant.ask_stream(body.question, **ask_options(body, request))
        first = next(events)  # raises bad-question errors before the stream starts

        def stream() -> Iterator[str]:
            for event in _chain(first, events):
                if event.kind == "answer":
                    answer = event.answer.to_json()
                    try:
                        keep(body, request, answer)
                    except AssistantError as exc:  # the answer stands; saving it failed
                        yield _sse(
                            "notice", {"text": f"this answer was not saved in the conversation: {exc}"}
                        )
                    yield _sse("answer", answer)
                else:
                    yield _sse(event.kind, {"text": event.text})

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.get("/api/search", tags=["search"], dependencies=[Depends(ask_quota)])
    def search(q: str, k: int = 5, retriever: Retriever = Retriever.HYBRID) -> list[dict]:
        if not 1 <= k <= 50:
            raise AssistantError("k must be between 1 and 50")
        return [passage_json(r) for r in assistant.search(q, k=k, retriever=retriever)]

    @app.get("/api/documents", tags=["articles"])
    def documents() -> list[dict]:
        return assistant.library.documents()

    @app.get("/api/documents/{doc_id:path}", tags=["articles"])
    def document(doc_id: str) -> dict:
        found = assistant.library.document(doc_id)
        if found is None:
            raise StarletteHTTPException(404, f"no article {doc_id!r}")
        return found

    @app.post("/api/documents", status_code=201, tags=["articles"], dependencies=[Depends(writer)])
    async def upload(request: Request, filename: str) -> dict:
        """Add or update an article: the file's bytes as the body (.txt, .md or .html), its name in
        `filename` (a label only, never a path). Needs a key (see the README's Access section)."""
        data = await request.body()
        report = await run_in_threadpool(assistant.library.add_upload, filename, data)
        doc_id = (report.added or report.updated or report.unchanged or [""])[0]
        if report.duplicates:
            doc_id, original = report.duplicates[0]
            return {"doc_id": doc_id, "status": "duplicate", "same_text_as": original}
        status = "added" if report.added else "updated" if report.updated else "unchanged"
        notes = [note for _, note in report.notes]
        return {"doc_id": doc_id, "status": status, "chunks_written": report.chunks_written, "notes": notes}

    @app.post("/api/documents/reindex", tags=["articles"], dependencies=[Depends(writer)])
    def reindex(body: DocumentIn) -> dict:
        """Read an article again from the file it came from and chunk and embed it anew (its chunks
        are replaced in place, so it stays searchable). Needs a key."""
        report = assistant.library.reindex(body.doc_id)
        if report is None:
            raise StarletteHTTPException(404, f"no article {body.doc_id!r}")
        return {"doc_id": body.doc_id, "status": "reindexed", "chunks_written": report.chunks_written}

    @app.post("/api/upload-pass", status_code=204, tags=["articles"], dependencies=[Depends(writer)])
    def upload_pass(request: Request) -> Response:
        """For the chat: trade the key (Authorization: Bearer KEY) for the HttpOnly cookie that lets
        the chat's file upload through. The cookie holds an HMAC of the key, valid until the server
        restarts; with no keys set, none is needed."""
        response = Response(status_code=204)
        key = bearer_token(request.headers.get("authorization"))
        if guard.access.keys and key:
            response.set_cookie(
                UPLOAD_PASS_COOKIE, guard.access.upload_pass(key), httponly=True, samesite="strict"
            )
        return response

    @app.delete("/api/documents/{doc_id:path}", tags=["articles"], dependencies=[Depends(writer)])
    def remove(doc_id: str) -> dict:
        """Remove an article from the index (and its kept file, for an upload). Needs a key."""
        if not assistant.library.remove_document(doc_id):
            raise StarletteHTTPException(404, f"no article {doc_id!r}")
        return {"doc_id": doc_id, "status": "removed"}

    @app.post("/api/feedback", status_code=201, tags=["feedback"], dependencies=[Depends(ask_quota)])
    def post_feedback(body: FeedbackIn) -> dict:
        return {"id": feedback.record(**body.model_dump())}

    @app.get("/api/feedback", tags=["feedback"], dependencies=[Depends(writer)])
    def export_feedback() -> Response:
        """Every rating so far, one JSON object a line. Needs a key."""
        lines = "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in feedback.entries())
        return Response(lines, media_type="application/x-ndjson")

    app.include_router(conversation_routes(conversations, ask_quota))

    @app.get("/view", response_class=HTMLResponse, include_in_schema=False)
    def view(doc_id: str, start: int | None = None, end: int | None = None, spans: str = "") -> HTMLResponse:
        found = assistant.library.document(doc_id)
        if found is None:  # a page, not JSON: a person followed this link
            return HTMLResponse(missing_article_page(doc_id), status_code=404)
        return HTMLResponse(article_page(found, start, end, spans[:1000]))

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> Response:
        return Response((STATIC / "widget.js").read_text(), media_type="text/javascript")

    @app.api_route(
        "/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def no_such_endpoint(request: Request, rest: str) -> None:
        """Unknown API paths and methods get a JSON 404 / 405 here, not the chat's HTML pages."""
        known = {route.path_format for route in app.routes if hasattr(route, "methods")} - {"/api/{rest}"}
        if any(_same_shape(request.url.path, path) for path in known):
            raise StarletteHTTPException(405, f"{request.method} is not allowed on {request.url.path}")
        raise StarletteHTTPException(404, f"no API endpoint {request.url.path}")

    if with_ui:
        from assistant.web.ui import mount_ui

        @app.get("/embed", include_in_schema=False)
        def embed_without_slash(request: Request) -> RedirectResponse:
            """The compact chat lives at /embed/: a link without the slash finds it too."""
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"embed/{query}", status_code=307)

        mount_ui(app, assistant, feedback, conversations, guard)
    return app


def _same_shape(path: str, template: str) -> bool:
    """True when `path` fits a route template such as /api/documents/{doc_id:path}."""
    head, brace, _ = template.partition("{")
    return path.startswith(head) and len(path) > len(head) if brace else path == template


def _ask_options(body: AskIn) -> dict[str, Any]:
    try:
        filters = Filters(
            tuple(body.filters.doc_ids), tuple(body.filters.sources), body.filters.since, body.filters.until
        )
    except DateFilterError as exc:
        raise exc.named(f"filters.{exc.field}") from None
    return {
        "history": [turn.model_dump() for turn in body.history],
        "k": body.k,
        "retriever": body.retriever,
        "mode": body.mode,
        "filters": filters,
        "as_of": as_of_date(body.as_of),
    }


def _chain(first, rest):
    yield first
    yield from rest


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _describe_validation(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(problems)
