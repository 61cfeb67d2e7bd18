"""Stage 2, article -> chunks: sentence-aware chunks sized in cl100k_base tokens, with exact offsets.

Every chunk is a llama-index `TextNode` whose text is `article.text[start_char:end_char]`, so a citation can
always be traced to the characters it came from. Chunks never cross a section heading; within a section
they pack whole sentences up to the token budget and repeat the last sentences (up to the overlap) at the
start of the next chunk. A sentence longer than the budget is cut at token boundaries.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from assistant.library.corpus import Article

TOKENIZER_NAME = "cl100k_base"
MAX_HEADING_CHARS = 90
MAX_HEADING_WORDS = 12
EMBED_METADATA_KEYS = ("title", "section")  # what the embedding sees besides the chunk text
LLM_METADATA_KEYS = ("title", "section", "source", "published")

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_NOT_HEADING_END = tuple('.!?:;,"”’)…')


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    tokens: int


@functools.cache
def _encoding():
    import tiktoken

    return tiktoken.get_encoding(TOKENIZER_NAME)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


_NUMBER_SIGN = re.compile(r"\b[Nn]os?\.$")  # "No." before a number ends no sentence


@functools.cache
def _sentence_tokenizer():
    from nltk.tokenize.punkt import PunktTokenizer

    return PunktTokenizer("english")  # data shipped with llama-index-core (NLTK_DATA, see __init__)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence in text[start:end]; line breaks always end a sentence."""
    end = len(text) if end is None else end
    spans = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        base = start + line.start()
        pieces: list[tuple[int, int]] = []
        for s, e in _sentence_tokenizer().span_tokenize(line.group()):
            previous = pieces[-1][1] if pieces else 0
            if (
                pieces
                and _NUMBER_SIGN.search(line.group(), max(0, previous - 5), previous)
                and line.group()[s].isdigit()
            ):
                pieces[-1] = (pieces[-1][0], e)  # "the year-end No. 1 in singles" is one sentence
            else:
                pieces.append((s, e))
        spans.extend((base + s, base + e) for s, e in pieces)
    return spans


def find_sections(text: str, fmt: str) -> list[tuple[int, str]]:
    """(offset of the heading line, heading) for each section heading, in order.

    Markdown headings are `#` lines. In plain text a heading is a short line, not the first, with no
    closing punctuation, starting with a capital and followed by a longer paragraph.
    """
    lines = [(m.start(), m.group()) for m in re.finditer(r"[^\n]+", text)]
    sections = []
    for i, (offset, line) in enumerate(lines):
        if fmt == "markdown":
            match = _MD_HEADING.match(line)
            if match and i > 0:
                sections.append((offset, match.group(1).strip("*_ ")))
            continue
        stripped = line.strip()
        following = lines[i + 1][1].strip() if i + 1 < len(lines) else ""
        if (
            i > 0
            and stripped[:1].isupper()
            and len(stripped) <= MAX_HEADING_CHARS
            and len(stripped.split()) <= MAX_HEADING_WORDS
            and not stripped.endswith(_NOT_HEADING_END)
            and ":" not in stripped
            and len(following) > 2 * len(stripped)
        ):
            sections.append((offset, stripped))
    return sections


def split_article(article: Article, *, chunk_tokens: int, overlap_tokens: int) -> list[TextNode]:
    """Cut an article into TextNodes carrying offsets, section and the article's metadata."""
    text = article.text
    sections = find_sections(text, article.format)
    if count_tokens(text) <= chunk_tokens:
        first = sections[0][1] if sections and sections[0][0] == 0 else ""
        spans = [(0, len(text), first)]
    else:
        bounds = [0] + [offset for offset, _ in sections] + [len(text)]
        names = [""] + [name for _, name in sections]
        spans = []
        for (lo, hi), name in zip(itertools.pairwise(bounds), names, strict=True):
            units = _units(text, lo, hi, chunk_tokens)
            spans.extend((s, e, name) for s, e in _pack(units, chunk_tokens, overlap_tokens))
    return [_node(article, i, len(spans), *span) for i, span in enumerate(spans)]


def _units(text: str, lo: int, hi: int, budget: int) -> list[Span]:
    units = []
    for s, e in sentence_spans(text, lo, hi):
        tokens = count_tokens(text[s:e])
        if tokens <= budget:
            units.append(Span(s, e, tokens))
        else:
            units.extend(_cut_long_sentence(text, s, e, budget))
    return units


def _cut_long_sentence(text: str, start: int, end: int, budget: int) -> list[Span]:
    tokens = _encoding().encode(text[start:end], disallowed_special=())
    _, offsets = _encoding().decode_with_offsets(tokens)
    offsets.append(end - start)
    pieces = []
    for i in range(0, len(tokens), budget):
        j = min(i + budget, len(tokens))
        s, e = start + offsets[i], start + offsets[j]
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            pieces.append(Span(s, e, j - i))
    return pieces


def _pack(units: list[Span], budget: int, overlap: int) -> list[tuple[int, int]]:
    chunks = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j].tokens <= budget):
            total += units[j].tokens
            j += 1
        chunks.append((units[i].start, units[j - 1].end))
        if j >= len(units):
            break
        k, back = j, 0
        while k - 1 > i and back + units[k - 1].tokens <= overlap:
            back += units[k - 1].tokens
            k -= 1
        i = k
    return chunks


def chunk_id(article: Article, index: int) -> str:
    return f"{article.doc_id}::{article.content_hash[:16]}::{index:05d}"


def _node(article: Article, index: int, count: int, start: int, end: int, section: str) -> TextNode:
    metadata: dict[str, str | int] = {
        "doc_id": article.doc_id,
        "title": article.title,
        "section": section,
        "source": article.source,
        "url": article.url,
        "path": article.path,
        "content_hash": article.content_hash,
        "text_hash": article.text_hash,
        "chunk_index": index,
        "chunk_count": count,
        "start_char": start,
        "end_char": end,
    }
    if article.published:
        metadata["published"] = article.published
        metadata["published_int"] = article.published_int
    return TextNode(
        id_=chunk_id(article, index),
        text=article.text[start:end],
        start_char_idx=start,
        end_char_idx=end,
        metadata=metadata,
        excluded_embed_metadata_keys=[k for k in metadata if k not in EMBED_METADATA_KEYS],
        excluded_llm_metadata_keys=[k for k in metadata if k not in LLM_METADATA_KEYS],
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article.doc_id)},
    )
