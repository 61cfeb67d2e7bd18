"""The Articles tab's part for the web: an article page, a feed or a sitemap added by its URL (key
holders only), one line per article it brought, optionally kept fresh as a source; and the list of
sources with each one's last read and last error.

The server fetches on behalf of a browser user here, so private and loopback addresses are refused
unless ASSISTANT_FETCH_PRIVATE allows them (no reaching into the server's own network)."""

# no `from __future__ import annotations`: Gradio reads the handlers' annotations (gr.Request)

import re

from assistant.errors import AssistantError
from assistant.pipeline import Assistant
from assistant.records.database import Database
from assistant.records.sources import SourceList
from assistant.watch import record, refresh
from assistant.web.guard import Guard
from assistant.web.keys import may_write
from assistant.web.render import shown

KEEP_FRESH_S = 1800
SOURCE_COLUMNS = ["Source", "Every (s)", "Last read (UTC)", "Last outcome"]
WRITE_REFUSED = "Adding from the web needs the API key (or this machine when no keys are set)."


def source_rows(database: Database) -> list[list]:
    try:
        listed = SourceList(database).list()
    except AssistantError as exc:
        return [[f"(the sources cannot be listed: {exc})", "", "", ""]]
    return [
        [s["url"], s["every_s"], s["last_fetch"].replace("T", " ").removesuffix("+00:00") or "never",
         f"error: {s['last_error']}" if s["last_error"] else f"{s['articles']} new or changed"]
        for s in listed
    ]  # fmt: skip


def add_from_web(assistant: Assistant, database: Database, url: str, keep: bool) -> str:
    """Index what `url` holds; the lines to show, one per article."""
    url = url.strip()
    if not re.match(r"^https?://\S+$", url, re.I):
        return "✗ Give an http or https address of an article, a feed or a sitemap."
    report = refresh(assistant, database, [url], allow_private=assistant.settings.fetch_private)
    if keep:  # this read counts as its first refresh
        sources = SourceList(database)
        sources.add(url, KEEP_FRESH_S)
        record(sources, url, report)
    lines = [f"- ✓ {shown(doc_id)}: {kind}" for kind, found in
             (("added", report.added), ("updated", report.updated), ("unchanged", report.unchanged))
             for doc_id in found]  # fmt: skip
    lines += [
        f"- ✓ {shown(doc_id)}: same text as {shown(original)}" for doc_id, original in report.duplicates
    ]
    lines += [f"- ✗ {shown(where)}: {shown(reason)}" for where, reason in report.failed]
    lines += [f"- note: {shown(where)}: {shown(note)}" for where, note in report.notes]
    if report.not_modified:
        lines.append(f"- {len(report.not_modified)} address(es) unchanged since they were last read")
    if keep:
        lines.append(f"- kept fresh: read again every {KEEP_FRESH_S // 60} minutes by `assistant watch`")
    return "\n".join(lines) or "Nothing found at that address."


def sources_section(assistant: Assistant, guard: Guard, database: Database, refreshed, key):
    """The parts and events; `refreshed` is (function, outputs) to run after articles were added
    (the articles table and the chat's filter); `key` is the tab's key field. Returns what the
    page's load fills in."""
    import gradio as gr

    gr.Markdown("**Add from the web**: an article page, an RSS or Atom feed, or a sitemap.")
    with gr.Row():
        url = gr.Textbox(label="Address", placeholder="https://news.example/feed.xml", scale=3)
        keep = gr.Checkbox(label=f"Keep it fresh (every {KEEP_FRESH_S // 60} min)", value=False)
    add = gr.Button("Add from the web", size="sm")
    outcome = gr.Markdown(elem_id="web-outcome")
    sources = gr.Dataframe(
        headers=SOURCE_COLUMNS, datatype=["str", "number", "str", "str"], interactive=False,
        wrap=True, elem_id="sources", label="Sources kept fresh",
    )  # fmt: skip

    def added(address: str, fresh: bool, typed: str, request: gr.Request):
        if not may_write(guard, request, typed):
            return WRITE_REFUSED, gr.skip()
        try:
            said = add_from_web(assistant, database, address, fresh)
        except AssistantError as exc:
            said = f"✗ {shown(str(exc))}"
        return said, source_rows(database)

    refresh, outputs = refreshed
    add.click(added, [url, keep, key], [outcome, sources]).then(refresh, None, outputs)
    return lambda: source_rows(database), [sources]
