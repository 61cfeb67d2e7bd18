"""The chat's stored conversations: the visitor's token and current conversation kept in the browser,
the list of past conversations, and a chat rebuilt from what the database holds.

Each visitor's browser keeps two values in its localStorage (Gradio's BrowserState): a visitor token,
made on the first visit, and the conversation on screen; a reload or a server restart finds both
again. The widget and /embed keep their own current conversation (a different storage key), and on
another site's page the browser keeps them apart from this site's (storage is partitioned per site).
"""

from __future__ import annotations

import contextlib
import logging
from html import escape
from typing import Any

from assistant.answering.answer import Answer
from assistant.errors import AssistantError
from assistant.records.conversations import ConversationNotFound, Conversations, new_token
from assistant.web.render import answer_html, shown

log = logging.getLogger(__name__)
VISITOR_KEY = "news-assistant-visitor"
CURRENT_KEY = "news-assistant-conversation"
# Gradio sends this key to the page to scramble what it keeps in localStorage: it is no secret from
# the browser that holds the values, and it must stay the same across restarts so they still read
BROWSER_STATE_KEY = "news-assistant-browser-state"
UNTITLED = "New conversation"
HISTORY_TURNS = 20  # earlier turns a follow-up is read against


def browser_states(compact: bool):
    """The visitor token and the current conversation id, kept in the browser."""
    import gradio as gr

    visitor = gr.BrowserState("", storage_key=VISITOR_KEY, secret=BROWSER_STATE_KEY)
    current = gr.BrowserState(
        "", storage_key=CURRENT_KEY + ("-embed" if compact else ""), secret=BROWSER_STATE_KEY
    )
    return visitor, current


def messages_of(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The chat's messages for stored turns: each question, then its answer as first shown."""
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": escape(turn["question"])})
        messages.append({"role": "assistant", "content": answer_html(Answer.from_json(turn["answer"]))})
    return messages


def choices_of(listed: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The conversation list's entries: title and last date, the id as the value."""
    return [(f"{c['title'] or UNTITLED} · {c['updated'][:10]}", c["id"]) for c in listed]


class ChatHistory:
    """What the chat's handlers do with stored conversations. A failing database never stops an
    answer: the chat answers without the earlier turns and says the conversation is not being kept."""

    def __init__(self, conversations: Conversations) -> None:
        self.conversations = conversations

    @staticmethod
    def visitor(stored: str, page: dict) -> str:
        """The visitor's token: the one the browser keeps, or on a first visit the one made for this
        page. `page` is the page's own session state, shared by its events, so a question sent before
        the page finished loading gets the same new token as the load does."""
        return stored or page.setdefault("visitor", new_token())

    def restore(self, visitor: str, current: str, page: dict) -> tuple[str, str, list, list, list, str]:
        """On page load: (visitor, current, messages, turn positions, list entries, title)."""
        visitor = self.visitor(visitor, page)
        try:
            listed = self.conversations.list(visitor)
            found = self.conversations.get(visitor, current) if current else None
        except ConversationNotFound:  # deleted elsewhere: a new conversation
            found = None
        except AssistantError as exc:
            log.warning("conversations unavailable: %s", exc)
            return visitor, "", [], [], [], ""
        if found is None:
            return visitor, "", [], [], choices_of(listed), ""
        turns = found["turns"]
        return (
            visitor,
            current,
            messages_of(turns),
            list(range(len(turns))),
            choices_of(listed),
            found["title"],
        )

    def open(self, visitor: str, conversation_id: str) -> tuple[str, list, list, str]:
        """Switch to a listed conversation: (current, messages, turn positions, title)."""
        found = self.conversations.get(visitor, conversation_id)
        turns = found["turns"]
        return conversation_id, messages_of(turns), list(range(len(turns))), found["title"]

    def start(self, visitor: str, current: str) -> tuple[str, list[dict[str, str]], str]:
        """The conversation a question goes to (a new one when there is none) and its history:
        (conversation id, history, problem); with the database down, ("", [], why)."""
        try:
            if current:
                try:
                    return current, self.conversations.history(visitor, current, HISTORY_TURNS), ""
                except ConversationNotFound:
                    pass
            return self.conversations.create(visitor)["id"], [], ""
        except AssistantError as exc:
            return "", [], f"This conversation is not being saved: {exc}"

    def keep(self, visitor: str, current: str, question: str, answer: dict) -> tuple[int | None, str]:
        """Add the turn: (its position, problem)."""
        if not current:
            return None, ""
        try:
            return self.conversations.add_turn(visitor, current, question, answer), ""
        except AssistantError as exc:
            return None, f"This answer was not saved: {exc}"

    def listing(self, visitor: str) -> list[tuple[str, str]]:
        try:
            return choices_of(self.conversations.list(visitor))
        except AssistantError:
            return []


def error_message(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": f'<p class="error">{shown(text)}</p>'}


@contextlib.contextmanager
def shown_as_gradio_error():
    """An AssistantError in a handler becomes Gradio's error message (its one line), not "Error"."""
    import gradio as gr

    try:
        yield
    except AssistantError as exc:
        raise gr.Error(str(exc)) from None
