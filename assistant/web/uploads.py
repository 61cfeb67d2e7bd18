"""The chat page's upload area: article files added through the same ingestion as the command line,
one line per file saying what became of it, for key holders (or this machine when no keys are set).

Any file is taken, so that a .pdf or a file over the limit gets a line of its own saying why it is
not added; Gradio's own checks show a bare "Error" badge instead. Gradio still refuses files past
UPLOAD_CEILING_BYTES (or UPLOAD_CEILING_FACTOR times the limit) itself.
"""

from html import escape
from pathlib import Path

from assistant.errors import AssistantError
from assistant.pipeline import Assistant
from assistant.web.documents import article_choices
from assistant.web.guard import Guard
from assistant.web.keys import KEY_PROMPT, UPLOAD_PASS_JS, WRITE_REFUSED, key_box, may_write
from assistant.web.render import shown

UPLOAD_TYPES = [".txt", ".md", ".html", ".htm"]
UPLOAD_CEILING_FACTOR = 4
UPLOAD_CEILING_BYTES = 20_000_000


def gradio_upload_limit(limit: int) -> int:
    """The size past which Gradio refuses a file before the handler sees it."""
    return max(UPLOAD_CEILING_FACTOR * limit, UPLOAD_CEILING_BYTES)


def megabytes(size: int) -> str:
    """A size in MB (10^6 bytes), the unit every upload message uses."""
    return f"{size / 1_000_000:.3g} MB"


def upload_area(assistant: Assistant, guard: Guard, article_filter) -> None:
    """The upload, its key field and its result lines; `article_filter` (the chat's dropdown of
    articles) is refreshed after each upload."""
    import gradio as gr

    keyed = bool(assistant.settings.keys)
    allowed = assistant.settings.max_upload_bytes
    upload = gr.File(
        label=f"Add articles ({', '.join(UPLOAD_TYPES)}, up to {megabytes(allowed)})",
        file_count="multiple",
        visible=not keyed,  # with keys, shown once a valid one is typed
    )
    upload_key = key_box(assistant)
    upload_status = gr.Markdown(KEY_PROMPT if keyed else "")

    def add_files(files: list | None, key: str, request: gr.Request, progress=gr.Progress()):  # noqa: B008
        if not may_write(guard, request, key):
            return WRITE_REFUSED, gr.update(), None
        lines = []
        for path in progress.tqdm(files or [], desc="Indexing"):
            name = Path(path).name
            size = Path(path).stat().st_size
            if size > allowed:
                lines.append(
                    f"- ✗ {shown(name)}: {megabytes(size)}; articles may be up to {megabytes(allowed)} "
                    "(ASSISTANT_MAX_UPLOAD_BYTES)"
                )
                continue
            try:
                report = assistant.library.add_upload(name, Path(path).read_bytes())
            except AssistantError as exc:
                lines.append(f"- ✗ {escape(str(exc))}")
                continue
            done = "added" if report.added else "updated" if report.updated else "unchanged"
            if report.duplicates:
                done = f"same text as {report.duplicates[0][1]}"
            lines.append(f"- ✓ {escape(name)}: {done}")
            lines.extend(f"  - note: {shown(note)}" for _, note in report.notes)
        return "\n".join(lines), gr.update(choices=article_choices(assistant)), None

    upload.upload(add_files, [upload, upload_key], [upload_status, article_filter, upload])

    def unlock(key: str, request: gr.Request):
        """With keys set, the upload shows once a valid key is typed."""
        if not key.strip():
            return gr.update(visible=False), KEY_PROMPT
        if may_write(guard, request, key):
            return gr.update(visible=True), "Key accepted: add articles above."
        return gr.update(visible=False), "That API key is not valid."

    if keyed:
        # the upload is checked before any handler runs: the browser first trades the key for the
        # upload pass (an HttpOnly cookie), then the upload is shown
        upload_key.change(unlock, [upload_key], [upload, upload_status], js=UPLOAD_PASS_JS)
