"""URLs -> articles: each URL is an article page, a feed or a sitemap (index); listings are expanded
to their article links (at most MAX_ENTRIES each, the newest first when dated), the pages fetched
concurrently and read by the same extraction as local HTML. An article's doc_id and url are its
canonical URL; what the page leaves out (title, date, author) comes from its feed or sitemap entry.
Each URL that fails is one line, and the rest carries on."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from assistant.errors import ArticleError
from assistant.library.corpus import Article, parse_article
from assistant.library.feeds import Entry, read_listing
from assistant.library.fetch import Fetched, Fetcher, FetchError
from assistant.library.urls import canonical, normalise

log = logging.getLogger(__name__)
MAX_ENTRIES = 1000  # article links read from one feed or sitemap
MAX_SITEMAP_DEPTH = 3  # sitemap indexes within sitemap indexes


@dataclass
class Crawl:
    articles: list[Article] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (url, note)
    unchanged: list[str] = field(default_factory=list)  # feeds and pages that answered 304
    listings: dict[str, set[str]] = field(default_factory=dict)  # read whole: url -> its links


def crawl(urls: list[str], fetcher: Fetcher, *, workers: int = 8) -> Crawl:
    """The articles at `urls`, and what could not be read. A feed, sitemap or page unchanged since
    the fetcher's last visit (304) is passed over: its articles are indexed already."""
    result = Crawl()
    failed, notes = result.failed, result.notes
    pages: dict[str, Entry] = {}  # normalised link -> its entry; the first listing naming it wins
    origin: dict[str, str] = {}  # normalised link -> the listing that named it
    fetched_pages: dict[str, Fetched] = {}  # pages fetched while telling them from listings
    queue = [(url, 0) for url in urls]
    seen: set[str] = set()
    while queue:
        url, depth = queue.pop(0)
        if normalise(url) in seen:
            continue
        seen.add(normalise(url))
        try:
            fetched = fetcher.get(url)
            if fetched.status == 304:
                result.unchanged.append(url)
                continue
            listing = read_listing(fetched, fetcher.max_bytes)
        except FetchError as exc:
            failed.append((url, _reason(url, exc)))
            continue
        if listing is None:
            pages.setdefault(normalise(fetched.url), Entry(fetched.url))
            fetched_pages[normalise(fetched.url)] = fetched
            continue
        if listing.sitemaps:
            if depth >= MAX_SITEMAP_DEPTH:
                notes.append((url, f"sitemaps nested deeper than {MAX_SITEMAP_DEPTH} were not read"))
            else:
                queue.extend((child, depth + 1) for child in listing.sitemaps)
        entries = sorted(listing.entries, key=lambda e: e.published, reverse=True)
        if len(entries) > MAX_ENTRIES:
            said = f"the {listing.kind} lists {len(entries):,} articles; the newest {MAX_ENTRIES:,} are read"
            notes.append((url, said))
        if not listing.entries and not listing.sitemaps:
            notes.append((url, f"the {listing.kind} lists no articles"))
        if len(entries) <= MAX_ENTRIES:
            result.listings[url] = {normalise(entry.url) for entry in entries}
        for entry in entries[:MAX_ENTRIES]:
            pages.setdefault(normalise(entry.url), entry)
            origin.setdefault(normalise(entry.url), url)

    def read(key: str) -> Article | tuple[str, str] | str:
        entry = pages[key]
        try:
            fetched = fetched_pages.get(key) or fetcher.get(key)  # tracking parameters left out
            if fetched.status == 304:
                return key
            if read_listing(fetched, fetcher.max_bytes) is not None:
                return entry.url, "a feed or sitemap where an article page was expected; not followed"
            return replace(_article(fetched, entry), listed_by=origin.get(key, ""), entry=key)
        except (FetchError, ArticleError) as exc:
            return entry.url, _reason(entry.url, exc)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for outcome in pool.map(read, list(pages)):
            if isinstance(outcome, Article):
                result.articles.append(outcome)
            elif isinstance(outcome, str):
                result.unchanged.append(outcome)
            else:
                failed.append(outcome)
    return result


def _article(fetched: Fetched, entry: Entry) -> Article:
    """The page as an article: its canonical URL for doc_id and url; the entry's title, date and
    author, and the feed's name (or else the host) as its source, where the page gives none (a site name
    that is only the host, as trafilatura falls back to, is none)."""
    html = fetched.content.decode("utf-8", "replace")
    address = canonical(fetched.url, html)
    article = parse_article(fetched.content, address, suffix=".html")
    untitled = article.title.startswith("untitled (")
    host = urlsplit(address).netloc
    named = article.source if article.source not in (host, urlsplit(address).hostname) else ""
    return replace(
        article,
        url=address,
        title=(entry.title or article.title) if untitled else article.title,
        published=article.published or entry.published,
        author=article.author or entry.author,
        source=named or entry.site or (urlsplit(address).hostname or ""),
    )


def _reason(url: str, exc: Exception) -> str:
    """Why `url` failed, without the URL itself when the message opens with it (the report names it)."""
    return str(exc).removeprefix(f"{url}: ")
