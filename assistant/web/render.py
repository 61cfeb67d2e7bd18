"""Answers and articles as HTML. Every piece of article text and model output is escaped here, so
nothing an article or a model says can become markup in the browser: not HTML, and not Markdown
either (the chat renders its messages as Markdown, where `![x](http://...)` would load an image and
`[[1]](http://...)` show a marker linking anywhere), so Markdown's characters become HTML entities,
which the browser shows as the characters and Markdown leaves alone."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from html import escape
from urllib.parse import urlencode

from assistant.answering.answer import Answer, Citation

CONTEXT_CHARS = 240  # passage text shown around a cited span
PREVIEW_CHARS = 300  # the longest quote a marker previews
# HTML's special characters, Markdown's syntax characters, and ":" so that no "http://..." in a text
# becomes an automatic link: each as an entity, in one pass
_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
    | {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~:"}
)


# Markdown's emphasis and heading marks, which a quote shows as the words they mark
_HEADING_MARK = re.compile(r"(^|\n)[ \t]{0,3}#{1,6}[ \t]+")
_EMPHASIS = re.compile(r"(?<![\w*])(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1(?![\w*])")


def shown(value: str) -> str:
    """Article text or model output for the chat: escaped for HTML and for Markdown."""
    return value.translate(_ENTITIES)


def without_emphasis(text: str) -> str:
    """Text with Markdown's emphasis marks dropped ("*Marisol*" -> "Marisol"; snake_case stays)."""
    return _EMPHASIS.sub(r"\2", text)


def quoted(value: str, *, line_start: bool = False) -> str:
    """A piece of article text as a quote shows it: plain words on one line, whatever Markdown the
    article was written in ("## Detours" is "Detours", "*Marisol*" is "Marisol"; links and images
    stay as typed), then escaped as `shown` does. `line_start`: the piece begins a line."""
    text = _HEADING_MARK.sub(r"\1", ("\n" if line_start else "") + value)
    plain = " ".join(without_emphasis(text).split())
    spaced = (" " if value[:1].isspace() and not line_start else "") + plain
    return shown(spaced + (" " if value[-1:].isspace() and plain else ""))


def view_url(doc_id: str, start: int | None = None, end: int | None = None, spans: str = "") -> str:
    """The article viewer's address: the span to show, and the other spans of it the answer cites."""
    query = {"doc_id": doc_id}
    if start is not None and end is not None:
        query |= {"start": str(start), "end": str(end)}
    if spans:
        query["spans"] = spans
    return f"view?{urlencode(query)}#cited"


def answer_html(answer: Answer, base: str = "/") -> str:
    """The answer with clickable markers, notices, and a collapsible list of its sources."""
    key = secrets.token_hex(4)  # the ids of this answer's sources, apart from other answers' on the page
    parts = [f'<div class="answer" data-mode="{escape(answer.mode)}">']
    for warning in answer.warnings:
        parts.append(f'<p class="notice">⚠ {shown(warning)}</p>')
    if answer.standalone_question and answer.standalone_question != answer.question:
        parts.append(f'<p class="searched">Searched for: {shown(answer.standalone_question)}</p>')
    if answer.refused:
        parts.append(f'<p class="refusal">{shown(answer.answer)}</p>')
        if answer.closest:
            parts.append(closest_html(answer.closest["citation"], answer.closest["mismatch"], base))
    else:
        if answer.short_answer:
            parts.append(short_answer_html(answer))
        by_number = {c.n: c for c in answer.citations}
        sentences = []
        for sentence in answer.sentences:
            text = quoted(sentence.text)
            if not sentence.supported:
                text = f'<span class="unsupported">{text} <em>(not supported by the articles)</em></span>'
            markers = "".join(_marker(by_number[n], key) for n in sentence.citations if n in by_number)
            sentences.append(text + markers)
        parts.append(f"<p>{' '.join(sentences)}</p>")
    if answer.citations:
        parts.append(sources_html(answer.citations, base, key))
    parts.append("</div>")
    return "".join(parts)


def short_answer_html(answer: Answer) -> str:
    """The answer itself, first, with the date of the report it comes from."""
    reported = (
        f' <span class="reported">(reported {_day(answer.reported_on)})</span>' if answer.reported_on else ""
    )
    return f'<p class="short-answer"><strong>{shown(answer.short_answer)}</strong>{reported}</p>'


def _day(value: str) -> str:
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return shown(value)
    return f"{day.day} {day:%b %Y}"


def closest_html(citation: Citation, mismatch: str, base: str = "/") -> str:
    """A refusal's nearest passage, labelled as not an answer and with the reason."""
    return (
        f'<div class="closest"><p>Closest passage, not an answer ({shown(mismatch)}):</p>'
        f"<blockquote>{quoted(citation.quote)} "
        f'<a class="open-source" href="{_href(citation, base)}" target="_blank" rel="noopener">'
        f"{_where(citation)}</a></blockquote></div>"
    )


def _href(citation: Citation, base: str, cited: list[Citation] = ()) -> str:
    """The viewer's address for the cited span (with the answer's other spans of the same article,
    `cited`), escaped for an attribute."""
    others = [c for c in cited if c.doc_id == citation.doc_id and c.n != citation.n]
    spans = ",".join(f"{c.start_char}-{c.end_char}" for c in others)
    return escape(base + view_url(citation.doc_id, citation.start_char, citation.end_char, spans))


def _where(citation: Citation) -> str:
    return shown(_plain_where(citation))


def _plain_where(citation: Citation) -> str:
    return " › ".join(part for part in (citation.title, citation.section) if part)


def _marker(citation: Citation, key: str) -> str:
    """Marker n: a link to its entry under the answer (which opens the sources), named for screen
    readers by its source, and showing the quoted span on hover, focus or tap. (The chat's sanitizer
    keeps no aria-* or data-* attributes: the name and the preview are the link's own text.)"""
    preview = " ".join(citation.quote.split())
    if len(preview) > PREVIEW_CHARS:
        preview = preview[: PREVIEW_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return (
        f' <a class="cite" href="#{_source_id(key, citation.n)}">[{citation.n}]'
        f'<span class="sr-only"> source {citation.n}: {_where(citation)}</span>'
        f'<span class="preview" role="tooltip">{quoted(preview)}</span></a>'
    )


def _source_id(key: str, n: int) -> str:
    return f"source-{key}-{n}"


def sources_html(citations: list[Citation], base: str = "/", key: str = "") -> str:
    """The sources under an answer, collapsed, with their count: one entry per article section, its
    cited spans each shown in their passage with the span highlighted."""
    sections: dict[tuple[str, str], list[Citation]] = {}
    for c in citations:
        sections.setdefault((c.doc_id, c.section), []).append(c)
    items = []
    for cited in sections.values():
        first = cited[0]
        numbers = "".join(f"[{c.n}]" for c in cited)
        quotes = "".join(_quote_html(c, base, key, citations) for c in cited)
        href = _href(first, base, citations)
        items.append(
            f'<li class="source"><a class="open-source" href="{href}" target="_blank" '
            f'rel="noopener">{shown(numbers)} {_where(first)}</a>{quotes}</li>'
        )
    return (
        f'<details class="sources"><summary>Sources ({len(citations)})</summary>'
        f"<ol>{''.join(items)}</ol></details>"
    )


def _quote_html(c: Citation, base: str, key: str, cited: list[Citation]) -> str:
    """One cited span in its passage: some context each side, the span marked; its link opens the
    article at the span."""
    start = c.start_char - c.passage_start
    end = c.end_char - c.passage_start
    first = max(0, start - CONTEXT_CHARS)
    before, span, after = c.text[first:start], c.text[start:end], c.text[end : end + CONTEXT_CHARS]
    return (
        f'<blockquote id="{_source_id(key, c.n)}">{"…" if first else ""}'
        f"{quoted(before, line_start=_begins_line(c.text, first))}"
        f"<mark>{quoted(span, line_start=_begins_line(c.text, start))}</mark>"
        f"{quoted(after, line_start=_begins_line(c.text, end))}"
        f"{'…' if end + CONTEXT_CHARS < len(c.text) else ''} "
        f'<a class="open-source" href="{_href(c, base, cited)}" target="_blank" rel="noopener" '
        f'aria-label="Open the article at source {c.n}">[{c.n}] ↗</a></blockquote>'
    )


def _begins_line(text: str, i: int) -> bool:
    return i == 0 or text[i - 1] == "\n"


def plain_text(answer: Answer) -> str:
    """The answer and its sources as plain text, for the clipboard."""
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        lines.extend(
            f'[{c.n}] {c.title} ({c.doc_id}): "{" ".join(c.quote.split())}"' for c in answer.citations
        )
    return "\n".join(lines)
