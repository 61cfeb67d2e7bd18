"""The article viewer (`/view`): an article as a page to read, its cited spans highlighted.

The text is shown as the article it is: Markdown headings as headings, paragraphs as paragraphs,
emphasis marks dropped, the title once, the original address when the article has one, and the way
back to the chat. Every piece of article text is escaped (the page also runs no script at all), and
the highlights are placed by character offsets into the stored text, so they fall exactly on the
spans the answer cited. With several spans of one article cited, each highlight links to the
previous and the next one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from assistant.web.render import without_emphasis

MAX_SPANS = 20
HEADING_CHARS = 80  # a plain-text heading is a line at most this long
CLOSING = '.!?:"”’)»…'  # a line ending in one of these closes its sentence
_HEADING = re.compile(r"[ \t]{0,3}(#{1,6})[ \t]+")
STYLE = """
body { font: 17px/1.6 Georgia, serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
  color: #222; background: #fff; }
h1 { font-size: 1.6rem; line-height: 1.3; margin-bottom: 0.3rem; }
h2, h3, h4 { font-size: 1.2rem; line-height: 1.3; margin: 1.6rem 0 0.4rem; }
.facts, nav { color: #555; font: 14px/1.5 system-ui, sans-serif; }
a { color: #1f4fa0; }
mark { background: #ffe58a; color: #1f1f1f; padding: 0.1em 0; scroll-margin-top: 30vh; }
.step { font: 13px system-ui, sans-serif; text-decoration: none; padding: 0 0.3em; }
@media (prefers-color-scheme: dark) {
  body { color: #e8e8e8; background: #15171c; }
  .facts, nav { color: #b5b5b5; }
  a { color: #8ab4f8; }
}
"""


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int


def parse_spans(
    text_length: int, start: int | None, end: int | None, spans: str = ""
) -> tuple[list[Span], int]:
    """The spans to highlight (sorted, inside the text, at most MAX_SPANS) and which one is the
    citation followed (-1: none). `spans` is "START-END,START-END"; malformed pieces are skipped."""
    found: set[Span] = set()
    for piece in spans.split(",")[:MAX_SPANS]:
        first, dash, last = piece.partition("-")
        if dash and first.strip().isdigit() and last.strip().isdigit():
            found.add(Span(int(first), int(last)))
    current = Span(start, end) if start is not None and end is not None else None
    if current:
        found.add(current)
    kept = sorted(s for s in found if 0 <= s.start < s.end <= text_length)
    return kept, kept.index(current) if current in kept else -1


def article_page(document: dict, start: int | None = None, end: int | None = None, spans: str = "") -> str:
    """A whole article as a page, the cited spans marked and the followed one scrolled into view."""
    text = document["text"]
    marks, current = parse_spans(len(text), start, end, spans)
    title = document.get("title") or "Untitled"
    blocks = _blocks(text)
    if blocks and _plain(text[blocks[0][1] : blocks[0][2]]) == _plain(title):
        blocks = blocks[1:]  # the title once: not again as the text's first line
    body = "\n".join(_block_html(text, block, marks, current) for block in blocks)
    facts = [escape(str(document[key])) for key in ("source", "author", "published") if document.get(key)]
    url = document.get("url") or ""
    if urlsplit(url).scheme in ("http", "https"):
        facts.append(f'<a href="{escape(url)}" rel="noopener noreferrer">the original</a>')
    facts.append(f"<code>{escape(document['doc_id'])}</code>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{escape(title)}</title>
<style>{STYLE}</style></head>
<body><nav><a href="./">← Back to the chat</a></nav>
<article><h1>{escape(title)}</h1>
<p class="facts">{" · ".join(facts)}</p>
<div class="text">{body}</div></article></body></html>"""


def missing_article_page(doc_id: str) -> str:
    """The viewer's page for an article the index does not hold (removed, or renamed and ingested
    again), with the way back to the chat."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Article not found</title>
<style>{STYLE}</style></head>
<body><h1>Article not found</h1>
<p>No article <code>{escape(doc_id)}</code> is in the index now: it may have been removed, or added
again under another name since this link was made.</p>
<p><a href="./">Back to the chat</a></p></body></html>"""


def _blocks(text: str) -> list[tuple[str, int, int]]:
    """The text's blocks as (kind, start, end) offsets: a heading ("h2".."h4": a Markdown heading line,
    its marks left out, or in plain text a short line with no closing punctuation that opens a block
    and comes before a longer one), or a paragraph ("p"). A paragraph ends at a blank line or at a
    line closing a sentence, so both one-paragraph-a-line text and hard-wrapped text read right."""
    lines, offset = [], 0
    for line in text.splitlines(keepends=True):
        lines.append((offset, offset + len(line.rstrip("\r\n")), line.rstrip("\r\n")))
        offset += len(line)
    blocks: list[tuple[str, int, int]] = []
    paragraph: list[int] = []  # start and end of the paragraph being gathered

    def close() -> None:
        if paragraph:
            blocks.append(("p", paragraph[0], paragraph[1]))
            paragraph.clear()

    for n, (start, end, line) in enumerate(lines):
        words = line.strip()
        following = lines[n + 1][2].strip() if n + 1 < len(lines) else ""
        marked = _HEADING.match(line)
        if not words or marked:
            close()
            if marked and line[marked.end() :].strip():
                blocks.append((f"h{min(len(marked.group(1)) + 1, 4)}", start + marked.end(), end))
            continue
        if not paragraph and _plain_heading(words, following):
            blocks.append(("h3", start + len(line) - len(line.lstrip()), end))
            continue
        paragraph[:] = [paragraph[0] if paragraph else start, end]
        if words[-1] in CLOSING:
            close()
    close()
    return blocks


def _plain_heading(line: str, following: str) -> bool:
    return (
        len(line) <= HEADING_CHARS
        and line[-1] not in CLOSING + ",;"
        and len(following) > len(line)
        and following[0].isupper()
    )


def _block_html(text: str, block: tuple[str, int, int], marks: list[Span], current: int) -> str:
    """One block, escaped, with the parts of the marked spans inside it highlighted."""
    kind, start, end = block
    pieces, at = [], start
    for n, span in enumerate(marks):
        lo, hi = max(span.start, start), min(span.end, end)
        if lo >= hi:
            continue
        pieces.append(_plain(text[at:lo], keep_space=True))
        begins = lo == span.start
        ident = (' id="cited"' if n == current else f' id="cited-{n + 1}"') if begins else ""
        pieces.append(f"<mark{ident}>{_plain(text[lo:hi], keep_space=True)}</mark>")
        if hi == span.end:
            pieces.append(_steps(marks, n, current))
        at = hi
    pieces.append(_plain(text[at:end], keep_space=True))
    return f"<{kind}>{''.join(pieces)}</{kind}>"


def _steps(marks: list[Span], n: int, current: int) -> str:
    """Links from highlight n to the previous and the next one, when there are several."""
    if len(marks) < 2:
        return ""

    def anchor(i: int) -> str:
        return "cited" if i == current else f"cited-{i + 1}"

    links = []
    if n > 0:
        links.append(f'<a class="step" href="#{anchor(n - 1)}" title="previous cited passage">‹</a>')
    if n < len(marks) - 1:
        links.append(f'<a class="step" href="#{anchor(n + 1)}" title="next cited passage">›</a>')
    return "".join(links)


def _plain(value: str, *, keep_space: bool = False) -> str:
    """Text without Markdown's emphasis marks, lines within a paragraph joined, escaped."""
    joined = re.sub(r"\s*\n\s*", " ", without_emphasis(value))
    return escape(joined if keep_space else joined.strip())
