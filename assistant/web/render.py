"""Answers and articles as HTML. Every piece of article text and model output is escaped here, so
nothing an article or a model says can become markup in the browser: not HTML, and not Markdown
either (the chat renders its messages as Markdown, where `![x](http://...)` would load an image and
`[[1]](http://...)` show a marker linking anywhere), so Markdown's characters become HTML entities,
which the browser shows as the characters and Markdown leaves alone."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from assistant.answering.answer import Answer, Citation

CONTEXT_CHARS = 240  # passage text shown around a cited span
# HTML's special characters, Markdown's syntax characters, and ":" so that no "http://..." in a text
# becomes an automatic link: each as an entity, in one pass
_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
    | {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~:"}
)


def shown(value: str) -> str:
    """Article text or model output for the chat: escaped for HTML and for Markdown."""
    return value.translate(_ENTITIES)


def view_url(doc_id: str, start: int | None = None, end: int | None = None) -> str:
    """The article viewer's address, with the span to highlight."""
    query = {"doc_id": doc_id}
    if start is not None and end is not None:
        query |= {"start": str(start), "end": str(end)}
    return f"view?{urlencode(query)}#cited"


def answer_html(answer: Answer, base: str = "/") -> str:
    """The answer with clickable markers, notices, and a collapsible list of its sources."""
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
        by_number = {c.n: c for c in answer.citations}
        sentences = []
        for sentence in answer.sentences:
            text = shown(sentence.text)
            if not sentence.supported:
                text = f'<span class="unsupported">{text} <em>(not supported by the articles)</em></span>'
            markers = "".join(_marker(by_number[n], base) for n in sentence.citations if n in by_number)
            sentences.append(text + markers)
        parts.append(f"<p>{' '.join(sentences)}</p>")
    if answer.citations:
        parts.append(sources_html(answer.citations, base))
    parts.append("</div>")
    return "".join(parts)


def closest_html(citation: Citation, mismatch: str, base: str = "/") -> str:
    """A refusal's nearest passage, labelled as not an answer and with the reason."""
    return (
        f'<div class="closest"><p>Closest passage, not an answer ({shown(mismatch)}):</p>'
        f"<blockquote>{shown(' '.join(citation.quote.split()))} "
        f'<a class="open-source" href="{_href(citation, base)}" target="_blank" rel="noopener">'
        f"{_where(citation)}</a></blockquote></div>"
    )


def _href(citation: Citation, base: str) -> str:
    """The viewer's address for the cited span, escaped for an attribute."""
    return escape(base + view_url(citation.doc_id, citation.start_char, citation.end_char))


def _where(citation: Citation) -> str:
    return " › ".join(shown(part) for part in (citation.title, citation.section) if part)


def _marker(citation: Citation, base: str) -> str:
    return (
        f' <a class="cite" href="{_href(citation, base)}" target="_blank" rel="noopener">[{citation.n}]</a>'
    )


def sources_html(citations: list[Citation], base: str = "/") -> str:
    items = []
    for c in citations:
        href, where = _href(c, base), _where(c)
        start = c.start_char - c.passage_start
        end = c.end_char - c.passage_start
        before = c.text[max(0, start - CONTEXT_CHARS) : start]
        after = c.text[end : end + CONTEXT_CHARS]
        items.append(
            f'<li class="source" id="source-{c.n}"><a class="open-source" href="{href}" target="_blank" '
            f'rel="noopener">[{c.n}] {where}</a>'
            f"<blockquote>{'…' if start > CONTEXT_CHARS else ''}{shown(before)}"
            f"<mark>{shown(c.text[start:end])}</mark>{shown(after)}"
            f"{'…' if end + CONTEXT_CHARS < len(c.text) else ''}</blockquote></li>"
        )
    return (
        f'<details class="sources" open><summary>Sources ({len(citations)})</summary>'
        f"<ol>{''.join(items)}</ol></details>"
    )


def article_page(document: dict, start: int | None, end: int | None) -> str:
    """A whole article as a page, the cited span marked and scrolled into view (by #cited)."""
    text = document["text"]
    if start is not None and end is not None and 0 <= start < end <= len(text):
        body = f'{escape(text[:start])}<mark id="cited">{escape(text[start:end])}</mark>{escape(text[end:])}'
    else:
        body = escape(text)
    facts = " · ".join(escape(str(document[key])) for key in ("source", "published") if document.get(key))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(document["title"])}</title>
<style>
body {{ font: 17px/1.6 Georgia, serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
h1 {{ font-size: 1.5rem; line-height: 1.3; }}
.facts {{ color: #666; font: 14px system-ui, sans-serif; }}
.text {{ white-space: pre-wrap; }}
mark {{ background: #ffe58a; padding: 0.1em 0; scroll-margin-top: 30vh; }}
</style></head>
<body><h1>{escape(document["title"])}</h1>
<p class="facts">{facts} · <code>{escape(document["doc_id"])}</code></p>
<div class="text">{body}</div></body></html>"""


def missing_article_page(doc_id: str) -> str:
    """The viewer's page for an article the index does not hold (removed, or renamed and ingested
    again), with the way back to the chat."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Article not found</title>
<style>
body {{ font: 17px/1.6 Georgia, serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
h1 {{ font-size: 1.5rem; line-height: 1.3; }}
</style></head>
<body><h1>Article not found</h1>
<p>No article <code>{escape(doc_id)}</code> is in the index now: it may have been removed, or added
again under another name since this link was made.</p>
<p><a href="./">Back to the chat</a></p></body></html>"""


def plain_text(answer: Answer) -> str:
    """The answer and its sources as plain text, for the clipboard."""
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        lines.extend(
            f'[{c.n}] {c.title} ({c.doc_id}): "{" ".join(c.quote.split())}"' for c in answer.citations
        )
    return "\n".join(lines)
