"""Stage 1, files -> articles: finds .txt/.md/.html files and reads each into an `Article` with metadata.

Plain text and Markdown may open with front matter (`---` / `key: value` lines / `---`) giving title,
source, published date (YYYY-MM-DD) and url. HTML goes through trafilatura, which keeps the article's
main text (as Markdown, so headings survive) and drops navigation and boilerplate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ArticleError

TEXT_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = set(TEXT_SUFFIXES) | HTML_SUFFIXES
MAX_TITLE_CHARS = 200
TITLE_LINE_CHARS = 120  # a first line longer than this is text, not a title
MIN_HTML_WORDS = 10
FRONT_MATTER_KEYS = {"title", "source", "published", "url", "author"}
EARLIEST_DATE = "1800-01-01"
LATEST_DATE = "2199-12-31"  # a published date may lie in the future (an embargo, a schedule)


@dataclass(frozen=True)
class Article:
    """One news article: its text and what is known about it. `doc_id` is stable across runs."""

    doc_id: str
    text: str
    title: str
    format: str = "text"  # "text" or "markdown": how section headings are recognised
    source: str = ""
    published: str = ""  # YYYY-MM-DD, empty when unknown
    url: str = ""
    author: str = ""
    path: str = ""  # absolute path of the file it was read from, empty for other origins
    listed_by: str = ""  # the feed or sitemap it was read from (its URL), for `ingest URL --prune`
    entry: str = ""  # its link as that listing gives it, normalised
    notes: tuple[str, ...] = ()  # what reading it left out, said once at ingestion ("date not understood")

    @property
    def published_int(self) -> int | None:
        """The date as YYYYMMDD, so that stores can filter on ranges."""
        return int(self.published.replace("-", "")) if self.published else None

    @property
    def text_hash(self) -> str:
        """Identifies the text alone: the same article saved under two names has one text_hash."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def content_hash(self) -> str:
        """Identifies text and metadata: any change to either means the article must be re-indexed."""
        parts = [self.text, self.title, self.format, self.source, self.published, self.url]
        parts += [self.author] if self.author else []  # (so an index made before authors were kept stands)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class FoundFile:
    path: Path
    root: Path  # the folder doc_ids are relative to

    @property
    def doc_id(self) -> str:
        return self.path.relative_to(self.root).as_posix()


def find_article_files(paths: Iterable[Path]) -> tuple[list[FoundFile], list[tuple[str, str]]]:
    """Expand files and folders (recursively, hidden entries skipped) into article files.

    Returns the files found and `(path, message)` for each path that cannot be used. Files of other
    types inside a folder are passed over; a file of another type named directly is an error.
    """
    found: list[FoundFile] = []
    problems: list[tuple[str, str]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            root = path.resolve()
            for child in sorted(root.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(root).parts)
                if child.suffix.lower() in SUPPORTED_SUFFIXES and not hidden and not child.is_dir():
                    found.append(FoundFile(child, root))
        elif path.is_symlink() and not path.exists():
            problems.append((str(path), "cannot be read: it is a link to a file that does not exist"))
        elif not path.exists():
            problems.append((str(path), "no such file or folder"))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
            problems.append((str(path), f"unsupported file type; use one of {supported}"))
        else:
            resolved = path.resolve()
            found.append(FoundFile(resolved, resolved.parent))
    return found, problems


def read_article(found: FoundFile) -> Article:
    """Read one file into an Article; raises ArticleError with a one-line reason."""
    try:
        data = found.path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot be read: {exc.strerror or exc}") from None
    return parse_article(data, found.doc_id, suffix=found.path.suffix, path=str(found.path))


def parse_article(data: bytes, doc_id: str, *, suffix: str, path: str = "") -> Article:
    """Turn the bytes of a .txt/.md/.html file into an Article (also used for uploads)."""
    suffix = suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise ArticleError(f"unsupported file type {suffix or '(none)'!r}; articles are {supported} files")
    if not data.strip():
        raise ArticleError("the file is empty")
    if b"\x00" in data:  # anywhere: a text with NUL bytes after its first pages is not text either
        raise ArticleError("looks like a binary file, not text")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"is not UTF-8 text (bad byte at position {exc.start}); convert it, e.g. with iconv"
        ) from None
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if suffix in HTML_SUFFIXES:
        return _parse_html(raw, doc_id, path)
    meta, body = _split_front_matter(raw)
    text = body.strip()
    if not text:
        raise ArticleError("has front matter but no article text")
    fmt = TEXT_SUFFIXES[suffix]
    return Article(
        doc_id=doc_id,
        text=text,
        title=meta.get("title") or _first_line_title(text, doc_id),
        format=fmt,
        source=meta.get("source", ""),
        author=meta.get("author", ""),
        published=_check_date(meta.get("published", "")),
        url=meta.get("url", ""),
        path=path,
    )


def _parse_html(html: str, doc_id: str, path: str) -> Article:
    import trafilatura

    text = trafilatura.extract(
        html,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        favor_precision=True,
    )
    text = (text or "").strip()
    if len(text.split()) < MIN_HTML_WORDS:  # a menu or a cookie notice is not an article
        raise ArticleError("no article text found in the HTML")
    # htmldate keeps only dates between 1995 and today unless told otherwise; front matter keeps
    # any calendar date, and so does HTML
    meta = trafilatura.extract_metadata(
        html, date_config={"original_date": True, "min_date": EARLIEST_DATE, "max_date": LATEST_DATE}
    )
    title = (meta.title if meta else "") or _first_line_title(text, doc_id)
    published, notes = _html_date(html, meta.date if meta else None)
    return Article(
        doc_id=doc_id,
        text=text,
        title=title.strip()[:MAX_TITLE_CHARS],
        format="markdown",
        source=(meta.sitename if meta and meta.sitename else ""),
        author=(meta.author if meta and meta.author else "")[:MAX_TITLE_CHARS],
        published=published,
        url=(meta.url if meta and meta.url else ""),
        path=path,
        notes=notes,
    )


# Where a page states its own published date: Open Graph / article meta, schema.org, Dublin Core
_DECLARED_DATE = re.compile(
    r"""<meta\s[^>]*(?:property|name|itemprop)\s*=\s*["'](?:article:published_time|datePublished|"""
    r"""date|pubdate|publishdate|dc\.date|dcterms\.created)["'][^>]*>"""
    r'|"datePublished"\s*:\s*"([^"]*)"',
    re.IGNORECASE,
)
_CONTENT = re.compile(r"""\scontent\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


def _html_date(html: str, found: str | None) -> tuple[str, tuple[str, ...]]:
    """The published date of a page and, when the page states one that cannot be read, a note saying
    it was left out. A date the page writes as YYYY-MM-DD must be a calendar date (htmldate would
    turn "2024-13-45" into 2024-01-01); one written otherwise ("May 3, 2019") is htmldate's to read."""
    declared = ""
    for match in _DECLARED_DATE.finditer(html):
        content = match.group(1) or next(iter(_CONTENT.findall(match.group(0))), "")
        if content.strip():
            declared = content.strip()
            break
    if re.match(r"\d{4}-\d\d-\d\d", declared):
        found = declared  # the page's own YYYY-MM-DD, not htmldate's reading of it
    try:
        return day((found or "")[:10]), ()
    except ValueError:
        if not declared:
            return "", ()
        return "", (f"published date {declared[:40]!r} in the page is not a date; indexed without one",)


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


def _split_front_matter(raw: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    meta: dict[str, str] = {}
    for number, line in enumerate(match.group(1).splitlines(), start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ArticleError(f"front matter line {number} is not 'key: value'")
        key = key.strip().lower()
        if key in FRONT_MATTER_KEYS:
            meta[key] = _front_matter_value(value)
    return meta, raw[match.end() :]


def _front_matter_value(value: str) -> str:
    """A value as YAML reads a plain or quoted scalar: "# ..." after a space is a comment, unless the
    value is quoted ('title: "We are #1"')."""
    value = value.strip()
    quoted = re.fullmatch(r"""(["'])(.*)\1(?:\s+#.*)?""", value)
    if quoted:
        return quoted.group(2).strip()
    return re.split(r"(?:^|\s)#", value, maxsplit=1)[0].strip()


def _first_line_title(text: str, doc_id: str) -> str:
    """The title an article without one gets: its first line when that reads as a title (a Markdown
    heading, or a short line with no closing punctuation before more text), else "untitled" and the
    file name, never a sentence fragment."""
    lines = text.strip().splitlines()
    first = lines[0].strip()
    if first.startswith("#") and first.lstrip("#").strip():
        return first.lstrip("#").strip()[:MAX_TITLE_CHARS]
    if len(first) <= TITLE_LINE_CHARS and first[-1] not in ".!?,;:…" and len(lines) > 1:
        return first
    return f"untitled ({Path(doc_id).name})"


def day(value: str) -> str:
    """A calendar date written YYYY-MM-DD, as written; ValueError for anything else ("2024-13-45",
    "2024-5-1", "yesterday"). The one date check of the package: articles' published dates and the
    date filters of questions."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(value)
    return dt.date.fromisoformat(value).isoformat()


def _check_date(value: str) -> str:
    if not value:
        return ""
    try:
        return day(value)
    except ValueError:
        raise ArticleError(f"published date {value!r} is not YYYY-MM-DD") from None
