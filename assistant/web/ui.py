"""The Gradio chat: the full page at / and a compact one at /embed for iframes and the widget.

Answers stream in; markers are links that open the article with the cited span highlighted; each
answer carries a collapsible list of its sources. Article text and model output reach the page only
through `render`, which escapes them.
"""

import asyncio
import contextlib
import functools
import logging
from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from assistant.answering.retrieval import Filters
from assistant.errors import AssistantError
from assistant.pipeline import Assistant, as_of_date
from assistant.records.conversations import Conversations
from assistant.records.feedback import FeedbackLog
from assistant.web.documents import article_choices, documents_tab
from assistant.web.embedding import EMBED_HEAD, embed_rule, embed_snippets
from assistant.web.evaluate import evaluate_tab
from assistant.web.guard import Guard, client_host
from assistant.web.history import ChatHistory, browser_states, error_message, shown_as_gradio_error
from assistant.web.render import answer_html, plain_text
from assistant.web.sources import sources_section
from assistant.web.uploads import gradio_upload_limit, upload_area

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
EXAMPLES = [
    "Who will represent the U.S. at the NATO foreign ministers' meeting?",
    "Why is Marco Rubio not attending the NATO meeting?",
    "Which countries expressed concerns about the draft peace plan?",
    "On what date is the meeting?",
]
UPLOAD_CLEANUP_S = 1800  # Gradio's temporary copies of uploaded files live at most about this long
CSS = (STATIC / "chat.css").read_text()


def mount_ui(
    app: FastAPI, assistant: Assistant, feedback: FeedbackLog, conversations: Conversations, guard: Guard
) -> None:
    """Serve the full chat at / and the compact one at /embed.

    The chat is built once the server is listening and the model is warm, so the JSON API answers
    first (Gradio takes a few seconds to import and build); a page asked for before then waits."""
    stand_in = ChatStandIn()
    app.mount("/", stand_in)
    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        async with started(app) as state, contextlib.AsyncExitStack() as stack:
            build = functools.partial(_build_chats, assistant, feedback, ChatHistory(conversations), guard)
            task = asyncio.create_task(stand_in.start(stack, assistant.warm_up, build))
            try:
                yield state
            finally:
                task.cancel()

    app.router.lifespan_context = lifespan


class ChatStandIn:
    """An ASGI app standing in for the Gradio chat until it is built, then passing requests on."""

    WAIT_S = 120.0

    def __init__(self) -> None:
        self.app: FastAPI | None = None
        self.error = ""
        self.done = asyncio.Event()

    async def start(self, stack: contextlib.AsyncExitStack, warm_up, build) -> None:
        try:
            await run_in_threadpool(warm_up)
            host = await run_in_threadpool(build)
            await stack.enter_async_context(host.router.lifespan_context(host))  # Gradio's queue
            self.app = host
        except Exception as exc:  # the API keeps serving; the page says why the chat is missing
            log.exception("the chat UI could not be built")
            self.error = f"the chat UI could not be built ({type(exc).__name__}: {exc})"
        finally:
            self.done.set()

    async def __call__(self, scope, receive, send) -> None:
        if not self.done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), self.WAIT_S)
        if self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            error = self.error or "the chat UI is still starting; try again in a moment"
            await JSONResponse({"error": error}, status_code=503)(scope, receive, send)


def _build_chats(assistant: Assistant, feedback: FeedbackLog, history: ChatHistory, guard: Guard) -> FastAPI:
    import gradio as gr

    host = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # Gradio refuses a larger file itself, with a bare "Error" badge: up to this ceiling the upload
    # reaches the handler, which says in a line of its own that the file is over the limit
    limit = gradio_upload_limit(assistant.settings.max_upload_bytes)
    # run history off: Gradio would keep every call's inputs, the API key field among them, in the
    # browser and show them at /gradio_api/runs
    for path, compact in (("/embed", True), ("", False)):
        chat = build_chat(assistant, feedback, history, guard, compact=compact)
        # the compact chat: no Gradio footer, and Escape in it closes the widget around it
        extra = {"footer_links": [], "head": EMBED_HEAD} if compact else {}
        gr.mount_gradio_app(host, chat, path=path, css=CSS, max_file_size=limit, run_history=False, **extra)
    return host


def build_chat(
    assistant: Assistant, feedback: FeedbackLog, history: ChatHistory, guard: Guard, *, compact: bool
):
    """One chat page. Its conversation is stored (see `history`): `positions` maps each question and
    answer pair on screen to its stored turn (None for a refusal to answer, such as the rate limit)."""
    import gradio as gr

    def respond(message, messages, positions, visitor, current, page, selected, as_of, request: gr.Request):
        question = (message or "").strip()
        if not question:  # Enter on an empty box: nothing is sent, nothing changes
            yield "", gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        messages = [*messages, {"role": "user", "content": escape(question)}]
        visitor = history.visitor(visitor, page)
        wait = guard.questions.take(client_host(request))
        if wait:
            refusal = error_message(f"Too many questions from here; try again in {wait} s.")
            yield "", [*messages, refusal], [*positions, None], visitor, current, gr.skip(), ""
            return
        current, earlier, problem = history.start(visitor, current)
        if problem:
            gr.Warning(problem)
        messages.append({"role": "assistant", "content": "…"})
        yield "", messages, positions, visitor, current, gr.skip(), ""
        text = ""
        try:
            events = assistant.ask_stream(
                question,
                history=earlier,
                filters=Filters(doc_ids=tuple(selected or ())),
                as_of=as_of_date(as_of),  # empty: today
            )
            for event in events:
                if event.kind == "token":
                    text += event.text
                    messages[-1] = {"role": "assistant", "content": escape(text)}
                    yield "", messages, positions, visitor, current, gr.skip(), ""
                elif event.kind == "notice":
                    gr.Warning(event.text)
                elif event.answer is not None:
                    if selected and event.answer.refused:
                        event.answer.warnings.append(
                            f'Only the {len(selected)} article(s) chosen under "Search only these '
                            'articles" were searched; clear that choice to search them all.'
                        )
                    messages[-1] = {"role": "assistant", "content": answer_html(event.answer)}
                    position, problem = history.keep(visitor, current, question, event.answer.to_json())
                    if problem:
                        gr.Warning(problem)
                    listed = gr.update(choices=history.listing(visitor), value=current or None)
                    answered = [*positions, position]
                    yield "", messages, answered, visitor, current, listed, plain_text(event.answer)
        except AssistantError as exc:
            messages[-1] = error_message(str(exc))
            yield "", messages, [*positions, None], visitor, current, gr.skip(), ""

    def rate(visitor: str, current: str, positions: list, comment: str, data: gr.LikeData):
        pair = (data.index[0] if isinstance(data.index, list | tuple) else data.index) // 2
        position = positions[pair] if 0 <= pair < len(positions) else None
        turn = history.conversations.turn(visitor, current, position) if position is not None else None
        if turn is None or data.liked not in (True, False):
            return comment
        answer = turn["answer"]
        feedback.record(
            rating="up" if data.liked else "down",
            question=turn["question"],
            answer=answer["answer"],
            citations=answer["citations"],
            comment=comment or "",
            mode=answer["mode"],
            conversation_id=current,
        )
        gr.Info("Thank you: your feedback was saved.")
        return ""

    # files sent to Gradio's upload endpoint wait in its temporary folder for the handler, which
    # checks the key; every UPLOAD_CLEANUP_S whatever is older than that is deleted
    cleanup = (UPLOAD_CLEANUP_S, UPLOAD_CLEANUP_S)
    with gr.Blocks(title="News assistant", analytics_enabled=False, delete_cache=cleanup) as demo:
        visitor, current = browser_states(compact)
        positions = gr.State([])
        page = gr.State({})  # this page's own: see ChatHistory.visitor
        # closed until the page knows its width: open on a wide screen, a button away on a phone
        with gr.Sidebar(label="Conversations", open=False, visible=not compact):
            new_top = gr.Button("New conversation", size="sm", variant="primary")
            conversation_list = gr.Radio(label="Your conversations", choices=[], elem_id="conversation-list")
            title = gr.Textbox(label="Title", max_lines=1, elem_id="conversation-title")
            with gr.Row():
                rename = gr.Button("Rename", size="sm")
                delete = gr.Button("Delete", size="sm", variant="stop")
        if not compact:
            gr.Markdown(
                "# News assistant\nAsk about the articles: every claim links to the passage behind it. "
                f"Answers: **{escape(assistant.mode_label)}**."
            )
        with gr.Tab("Chat") if not compact else contextlib.nullcontext(), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    height=None,  # as tall as its messages, between these
                    min_height=200,
                    max_height=420 if compact else 560,
                    sanitize_html=True,
                    render_markdown=True,
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                    placeholder="Ask a question about the articles.",
                    autoscroll=False,  # a finished answer is scrolled to its top instead (SHOW_ANSWER_JS)
                )
                textbox = gr.Textbox(
                    placeholder="Ask about the articles…",
                    label="Your question",  # shown to screen readers only (chat.css)
                    submit_btn="Ask",
                    max_lines=4,
                    elem_id="question",
                )
                with gr.Row():
                    # the full page has its button in the sidebar
                    new = gr.Button("New conversation", size="sm", visible=compact)
                    copy = gr.Button("Copy answer", size="sm")
                last_answer = gr.Textbox(visible=False)
                comment = gr.Textbox(
                    label="Comment (optional, sent with thumbs up or down)",
                    lines=1,
                    max_lines=3,
                    visible=not compact,
                )
                if not compact:
                    gr.Examples(EXAMPLES, inputs=textbox, label="Examples")
            selected = gr.Dropdown(
                label="Search only these articles (none: all)",
                multiselect=True,
                choices=[],
                visible=not compact,
                render=compact,
            )
            # the day the question is asked: "this week" is read against it
            as_of = gr.Textbox(
                label="As of (YYYY-MM-DD)",
                placeholder="today",
                max_lines=1,
                visible=not compact,
                render=compact,
            )
            if not compact:
                with gr.Column(scale=1):
                    selected.render()
                    as_of.render()
                    upload_area(assistant, guard, selected)
                    with gr.Accordion("Embed this chat", open=False):
                        gr.Markdown(embed_rule(assistant.settings.origins))
                        snippets = gr.Code(language="html", label="Three ways to embed", interactive=False)

        if not compact:
            with gr.Tab("Articles") as articles_tab:
                list_articles, listed_articles, key = documents_tab(assistant, guard, selected)

                def after_web():  # articles came from the web: the table and the chat's filter
                    return (*list_articles(), gr.update(choices=article_choices(assistant)))

                database = history.conversations.database
                refreshed = (after_web, [*listed_articles, selected])
                list_sources, listed_sources = sources_section(assistant, guard, database, refreshed, key)
            articles_tab.select(list_articles, None, listed_articles)  # uploads may have added some
            with gr.Tab("Evaluate"):
                evaluate_tab(assistant, guard)

        # several visitors at once: as many as the assistant answers at a time (Gradio runs one by default)
        textbox.submit(
            respond,
            [textbox, chatbot, positions, visitor, current, page, selected, as_of],
            [textbox, chatbot, positions, visitor, current, conversation_list, last_answer],
            concurrency_limit=assistant.settings.max_concurrent_answers,
        ).then(None, None, None, js=SHOW_ANSWER_JS)
        fresh = [chatbot, positions, current, conversation_list, title, last_answer]
        for button in (new, new_top):
            button.click(lambda: ([], [], "", None, "", ""), None, fresh)
        # the chat's own trash icon starts a new conversation too: what it clears is not asked about again
        chatbot.clear(lambda: ([], "", None, "", ""), None, fresh[1:])
        copy.click(None, [last_answer], None, js=COPY_JS)
        chatbot.like(rate, [visitor, current, positions, comment], [comment])

        def switch(visitor: str, chosen: str | None):
            if not chosen:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip()
            with shown_as_gradio_error():
                return history.open(visitor, chosen)

        def rename_current(visitor: str, current: str, new_title: str):
            if not current:
                raise gr.Error("Ask a question first: there is no conversation to rename yet.")
            with shown_as_gradio_error():
                history.conversations.rename(visitor, current, new_title)
            return gr.update(choices=history.listing(visitor), value=current)

        def delete_current(visitor: str, current: str):
            if current:
                with shown_as_gradio_error():
                    history.conversations.delete(visitor, current)
            return [], [], "", gr.update(choices=history.listing(visitor), value=None), "", ""

        conversation_list.input(switch, [visitor, conversation_list], [current, chatbot, positions, title])
        rename.click(rename_current, [visitor, current, title], [conversation_list])
        delete.click(delete_current, [visitor, current], fresh)

        def restore(visitor: str, current: str, page: dict):
            visitor, current, messages, positions, choices, title = history.restore(visitor, current, page)
            listed = gr.update(choices=choices, value=current or None)
            return visitor, current, messages, positions, listed, title

        if not compact:
            demo.load(None, None, None, js=PAGE_READY_JS)
        demo.load(
            restore,
            [visitor, current, page],
            [visitor, current, chatbot, positions, conversation_list, title],
        )

        if not compact:

            def on_load(request: gr.Request):
                base = str(request.request.base_url).rstrip("/") if request else ""
                return gr.update(choices=article_choices(assistant)), embed_snippets(base)

            demo.load(on_load, None, [selected, snippets])
            demo.load(list_articles, None, listed_articles)
            demo.load(list_sources, None, listed_sources)
    return demo


COPY_JS = "(text) => { if (text) { navigator.clipboard.writeText(text); } return []; }"
# once the page is built: the conversations sidebar opens by itself on a wide screen only (on a phone
# it would cover the chat), and each group of choices is named by its label for screen readers
PAGE_READY_JS = """() => {
  const toggle = document.querySelector(".sidebar .toggle-button");
  if (toggle && window.innerWidth >= 900) { toggle.click(); }
  document.querySelectorAll("fieldset:not([aria-label])").forEach((group) => {
    const label = group.querySelector('[data-testid="block-info"]');
    if (label) { group.setAttribute("aria-label", label.textContent.trim()); }
  });
  return [];
}"""
# the newest answer's first line in view, not its end (with the sources open, the end is far below)
SHOW_ANSWER_JS = """() => {
  const answers = document.querySelectorAll('[data-testid="bot"]');
  const answer = answers[answers.length - 1];
  let box = answer && answer.parentElement;
  while (box && box.scrollHeight <= box.clientHeight + 1) { box = box.parentElement; }
  if (box && box !== document.documentElement && box !== document.body) {
    box.scrollTop += answer.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  }
  return [];
}"""
