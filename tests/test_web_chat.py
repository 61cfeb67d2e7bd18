"""The chat page as Gradio builds it, without a server: what its event listeners are set to do."""

from assistant.pipeline import Assistant
from assistant.records.conversations import Conversations
from assistant.records.database import Database, database_url
from assistant.records.feedback import FeedbackLog
from assistant.web.guard import Guard
from assistant.web.history import ChatHistory
from assistant.web.ui import build_chat


def test_the_chat_answers_as_many_visitors_at_once_as_the_assistant_does(embedded_settings, embedder):
    """Gradio runs one call of a listener at a time unless told otherwise: questions from several
    visitors would wait for each other."""
    settings = embedded_settings.replace(max_concurrent_answers=3)
    assistant = Assistant(settings, embedder)
    database = Database(database_url(settings))
    history = ChatHistory(Conversations(database))
    for compact in (True, False):
        demo = build_chat(assistant, FeedbackLog(database), history, Guard(settings), compact=compact)
        limits = {fn.name: fn.concurrency_limit for fn in demo.fns.values()}
        assert limits["respond"] == 3
