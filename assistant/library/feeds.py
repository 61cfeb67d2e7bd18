"""What a fetched URL is, and the article links it lists: an RSS 2.0, RSS 1.0 or Atom feed (read by
feedparser), a sitemap, a news sitemap or a sitemap index (XML, read with lxml; gzipped ones too),
or else an article page. Entries keep what the feed or sitemap says of them (title, date, author,
the feed's name), which fills what the page itself leaves out."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field

from lxml import etree

from assistant.library.fetch import Fetched, FetchError

HTML_TYPES = ("text/html", "application/xhtml+xml")
XML_STARTS = (b"<?xml", b"<rss", b"<feed", b"<urlset", b"<sitemapindex", b"<rdf:RDF")


@dataclass(frozen=True)
class Entry:
    """An article link from a feed or a sitemap, with what the listing says of it."""

    url: str
    title: str = ""
    published: str = ""  # YYYY-MM-DD, or empty
    site: str = ""  # the feed's own title: the site's name
    author: str = ""


@dataclass
class Listing:
    kind: str  # "feed", "sitemap" or "sitemap index"
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # a sitemap index's sitemaps


def read_listing(fetched: Fetched, max_bytes: int) -> Listing | None:
    """The feed or sitemap `fetched` is, or None for an HTML page; FetchError for anything else (a
    PDF, an image, a feed too broken to read)."""
    content = fetched.content
    if content[:2] == b"\x1f\x8b":  # a gzipped sitemap: inflated within the same limit
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        content = inflate.decompress(content, max_bytes)
        if inflate.unconsumed_tail:
            raise FetchError(f"{fetched.url}: larger than {max_bytes / 1_000_000:g} MB once decompressed")
    start = content.lstrip()[:200].lower()
    if fetched.content_type in HTML_TYPES and not start.startswith(XML_STARTS):
        return None
    looks_xml = start.startswith(XML_STARTS) or "xml" in fetched.content_type or "rss" in fetched.content_type
    if not looks_xml:
        if start.startswith((b"<!doctype html", b"<html")):
            return None
        kind = fetched.content_type or "unknown"
        raise FetchError(f"{fetched.url}: not an HTML page, a feed or a sitemap (content type {kind})")
    sitemap = _sitemap(content)
    if sitemap is not None:
        return sitemap
    return _feed(fetched.url, content)


def _sitemap(content: bytes) -> Listing | None:
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
    name = etree.QName(root).localname
    if name == "sitemapindex":
        return Listing(
            "sitemap index", sitemaps=[t.strip() for t in root.xpath("//*[local-name()='loc']/text()")]
        )
    if name != "urlset":
        return None
    entries = []
    for url in root.xpath("*[local-name()='url']"):
        loc = _text(url, "loc")
        if not loc:
            continue
        published = _text(url, "publication_date") or _text(url, "lastmod")
        entries.append(Entry(loc, title=_text(url, "title"), published=_day(published)))
    return Listing("sitemap", entries=entries)


def _feed(url: str, content: bytes) -> Listing:
    import feedparser

    parsed = feedparser.parse(content)
    entries = []
    for item in parsed.entries:
        link = item.get("link") or ""
        if not link:
            continue
        when = item.get("published_parsed") or item.get("updated_parsed")
        published = dt.date(*when[:3]).isoformat() if when else ""
        entries.append(
            Entry(
                link,
                title=item.get("title", ""),
                published=published,
                site=parsed.feed.get("title", ""),
                author=item.get("author", ""),
            )
        )
    if not entries and (parsed.bozo or not parsed.version):
        raise FetchError(f"{url}: not a feed or sitemap that can be read (malformed XML)")
    return Listing("feed", entries=entries)


def _text(node, name: str) -> str:
    found = node.xpath(f".//*[local-name()='{name}']/text()")
    return found[0].strip() if found else ""


def _day(value: str) -> str:
    """The date part of a W3C datetime ("2026-11-28T10:00:00+01:00" -> "2026-11-28"), or empty."""
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return ""
