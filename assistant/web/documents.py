"""The chat page's Articles tab: every indexed article (title, source, date, chunks, when indexed),
searched and paged so that thousands stay usable, each one opened in the viewer, and, for key
holders, read again from its file (re-index) or removed."""

# no `from __future__ import annotations`: Gradio reads the handlers' annotations (gr.SelectData,
# gr.Request) to know what to pass them, and `gr` is imported inside the function that defines them
import math
from html import escape

from assistant.errors import AssistantError
from assistant.pipeline import Assistant
from assistant.web.guard import Guard
from assistant.web.keys import key_box, may_write
from assistant.web.render import shown, view_url

PAGE_ROWS = 25
COLUMNS = ["Title", "Source", "Published", "Chunks", "Indexed (UTC)", "Article id"]
CHOOSE = "Choose an article in the table to open, re-index or remove it."
WRITE_REFUSED = "Re-indexing and removing articles need the API key (or this machine when no keys are set)."


def page_of(documents: list[dict], query: str, page: int) -> tuple[list[list], int, int, str]:
    """The rows of one page of the articles matching `query` (in title, source or id, any case):
    (rows, page shown, pages, a line saying which)."""
    words = query.lower().split()
    found = [
        d for d in documents
        if all(w in f"{d.get('title', '')} {d.get('source', '')} {d['doc_id']}".lower() for w in words)
    ]  # fmt: skip
    pages = max(1, math.ceil(len(found) / PAGE_ROWS))
    page = min(max(page, 0), pages - 1)
    rows = [
        [d.get("title") or "untitled", d.get("source", ""), d.get("published", ""), d.get("chunks", 0),
         d.get("indexed", "").replace("T", " ").removesuffix("+00:00"), d["doc_id"]]
        for d in found[page * PAGE_ROWS : (page + 1) * PAGE_ROWS]
    ]  # fmt: skip
    total = f"{len(found):,} of {len(documents):,} articles" if words else f"{len(documents):,} articles"
    return rows, page, pages, f"{total} · page {page + 1} of {pages}"


def article_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """The chat's article filter: each article's title and id, the id as the value."""
    try:
        return [(f"{d['title']} ({d['doc_id']})", d["doc_id"]) for d in assistant.library.documents()]
    except AssistantError:
        return []


def documents_tab(assistant: Assistant, guard: Guard, article_filter):
    """The tab's parts and events; `article_filter` is the chat's dropdown of articles, refreshed
    after one is removed or re-indexed. Returns what the page's load event fills in (function,
    outputs) and the tab's key field."""
    import gradio as gr

    def listing(query: str, page: int):
        try:
            documents = assistant.library.documents()
        except AssistantError as exc:
            return [], 0, f"The articles cannot be listed: {escape(str(exc))}"
        rows, page, _, line = page_of(documents, query or "", page)
        return rows, page, line

    gr.Markdown("Every indexed article. Search by title, source or id; choose one to open it.")
    with gr.Row():
        query = gr.Textbox(label="Search the articles", placeholder="title, source or file name", scale=3)
        found = gr.Markdown(elem_id="articles-count")
    table = gr.Dataframe(
        headers=COLUMNS,
        datatype=["str", "str", "str", "number", "str", "str"],
        interactive=False,
        wrap=True,
        elem_id="articles",
    )
    page = gr.State(0)
    with gr.Row():
        previous = gr.Button("‹ Previous page", size="sm")
        following = gr.Button("Next page ›", size="sm")
    chosen = gr.State("")
    detail = gr.Markdown(CHOOSE, elem_id="article-detail")
    key = key_box(assistant)
    with gr.Row():
        reindex = gr.Button("Re-index", size="sm", interactive=False)
        remove = gr.Button("Remove", size="sm", variant="stop", interactive=False)
    outcome = gr.Markdown(elem_id="article-outcome")

    def choose(data: gr.SelectData):
        doc_id = data.row_value[-1] if data.row_value else ""
        found = assistant.library.document(doc_id) if doc_id else None
        if found is None:
            return "", CHOOSE, gr.update(interactive=False), gr.update(interactive=False), ""
        title = shown(found.get("title") or "untitled")
        facts = " · ".join(shown(str(found[k])) for k in ("source", "published") if found.get(k))
        line = f"**{title}** {facts} · [Open the article]({escape(view_url(doc_id))})"
        return doc_id, line, gr.update(interactive=True), gr.update(interactive=True), ""

    def change(action: str, doc_id: str, key: str, query: str, page: int, request: gr.Request):
        if not may_write(guard, request, key):
            return WRITE_REFUSED, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            if action == "remove":
                done = assistant.library.remove_document(doc_id)
                said = f"Removed {shown(doc_id)}." if done else f"{shown(doc_id)} was no longer indexed."
            else:
                report = assistant.library.reindex(doc_id)
                said = (
                    f"Re-indexed {shown(doc_id)}: {report.chunks_written} chunks written."
                    if report else f"{shown(doc_id)} was no longer indexed."
                )  # fmt: skip
        except AssistantError as exc:
            said = f"✗ {shown(str(exc))}"
        rows, page, line = listing(query, page)
        return said, rows, page, line, gr.update(choices=article_choices(assistant))

    def read_again(doc_id: str, key: str, query: str, page: int, request: gr.Request):
        return change("reindex", doc_id, key, query, page, request)

    def take_out(doc_id: str, key: str, query: str, page: int, request: gr.Request):
        return change("remove", doc_id, key, query, page, request)

    changed = [outcome, table, page, found, article_filter]
    reindex.click(read_again, [chosen, key, query, page], changed)
    remove.click(take_out, [chosen, key, query, page], changed)
    table.select(choose, None, [chosen, detail, reindex, remove, outcome])
    query.change(lambda q: listing(q, 0), [query], [table, page, found])
    previous.click(lambda q, p: listing(q, p - 1), [query, page], [table, page, found])
    following.click(lambda q, p: listing(q, p + 1), [query, page], [table, page, found])
    return lambda: listing("", 0), [table, page, found], key
