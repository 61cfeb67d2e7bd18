"""Articles from the web: a local HTTP server (loopback only) serves a news site the tests write, with
an RSS feed, an Atom feed, a sitemap index with a news sitemap, article pages with canonical links
and tracking parameters, a robots.txt, and every bad case; nothing reaches outside the machine."""

import contextlib
import gzip
import hashlib
import http.server
import json
import subprocess
import threading
import time

import httpx
import pytest
from conftest import SCRIPT, cli, free_port, running, stop

from assistant.config import Settings
from assistant.library.crawl import MAX_ENTRIES, crawl
from assistant.library.fetch import Fetcher
from assistant.library.urls import canonical, normalise
from assistant.pipeline import Assistant

FRIDAY = "Fri, 27 Nov 2026 10:00:00 GMT"
STORY = (
    "The harbour ferry {name} now leaves the pier at nine every morning, the port authority said on "
    "Tuesday. Tickets cost twelve euros for adults and six for children, and the crossing takes forty "
    "minutes in fair weather. The authority added that a second boat would join the route in spring "
    "if the number of passengers keeps growing as it has since the new timetable began in March."
)


def page(title: str, name: str, canonical_href: str = "", date: str = "", author: str = "") -> str:
    link = f'<link rel="canonical" href="{canonical_href}">' if canonical_href else ""
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    meta += f'<meta name="author" content="{author}">' if author else ""
    return (
        f"<!doctype html><html><head><title>{title}</title>{link}{meta}</head><body>"
        f"<nav>Home | World | Sport</nav><article><h1>{title}</h1><p>{STORY.format(name=name)}</p>"
        "</article><footer>Contact us</footer></body></html>"
    )


def rss(base: str, items: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{t}</title><link>{base}{path}</link>{f'<pubDate>{d}</pubDate>' if d else ''}</item>"
        for t, path, d in items
    )
    channel = f"<channel><title>Harbour Herald</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


class Site(http.server.SimpleHTTPRequestHandler):
    """Serves `routes` (path -> (status, content type, body, extra headers)); logs every path asked."""

    routes: dict = {}
    asked: list = []  # every path asked for
    answered: list = []  # (path, status): the server's log

    def do_GET(self):  # noqa: N802
        self.asked.append(self.path)
        route = self.path.split("?")[0]  # like most sites: unknown query parameters change nothing
        if route == "/news/slow":  # answers long after any client's patience
            time.sleep(5)
        status, kind, body, headers = self.routes.get(route, (404, "text/plain", b"not found", {}))
        tag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        if status == 200 and self.headers.get("If-None-Match") == tag:
            self.answered.append((route, 304))
            self.send_response(304)
            self.end_headers()
            return
        self.answered.append((route, status))
        headers = {"ETag": tag, **headers} if status == 200 else headers
        self.send_response(status)
        self.send_header("content-type", kind)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def site(routes_for):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    handler = type("Handler", (Site,), {"routes": routes_for(base), "asked": [], "answered": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield base, handler
    finally:
        server.shutdown()
        server.server_close()


def news_site(base: str) -> dict:
    html, xml = "text/html; charset=utf-8", "application/xml"

    def ok(kind, text, **headers):
        return (200, kind, text.encode() if isinstance(text, str) else text, headers)

    bomb = gzip.compress(b"<html><body>" + b"a" * 30_000_000 + b"</body></html>")
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Harbour Herald</title><entry><title>Night tram returns</title>"
        f'<link href="{base}/news/tram"/><updated>2026-11-20T08:00:00Z</updated>'
        "<author><name>Night Desk</name></author></entry></feed>"
    )
    news_sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>{base}/news/bridge</loc><news:news><news:publication_date>2026-11-25T09:00:00+01:00"
        "</news:publication_date><news:title>Bridge closes for repairs</news:title></news:news></url>"
        f"<url><loc>{base}/private/memo</loc></url></urlset>"
    )
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{base}/news-sitemap.xml</loc></sitemap></sitemapindex>"
    )
    huge = rss(base, [(f"Story {n}", f"/news/many-{n}", "") for n in range(10_000)])
    return {
        "/robots.txt": ok("text/plain", "User-agent: *\nDisallow: /private/\n"),
        "/feed.xml": ok(
            "application/rss+xml",
            rss(
                base,
                [
                    (
                        "Ferry timetable changes",
                        "/news/ferry?utm_source=rss&utm_medium=feed",
                        "Fri, 27 Nov 2026 10:00:00 GMT",
                    ),
                    (
                        "Ferry timetable changes",
                        "/news/ferry?utm_source=other",
                        "Fri, 27 Nov 2026 10:00:00 GMT",
                    ),
                    ("Undated notice", "/news/notice", ""),
                    ("Gone story", "/news/gone", ""),
                ],
            ),
        ),  # fmt: skip
        "/atom.xml": ok("application/atom+xml", atom),
        "/sitemap-index.xml": ok(xml, index),  # fmt: skip
        "/news-sitemap.xml": ok(xml, news_sitemap),
        "/huge.xml": ok("application/rss+xml", huge),
        "/broken.xml": ok("application/rss+xml", "<?xml version='1.0'?><rss><channel><item><title>oops"),
        "/news/ferry": ok(
            html,
            page(
                "Ferry timetable changes",
                "Marisol",
                f"{base}/news/ferry?utm_campaign=x#top",
                author="Ines Marlow",
            ),
        ),
        "/news/ferry-copy": ok(html, page("Ferry timetable changes", "Marisol")),
        "/news/notice": ok(html, page("Undated notice", "Aurora")),
        "/news/tram": ok(html, page("Night tram returns", "Borealis")),
        "/news/bridge": ok(html, page("Bridge closes", "Caldera")),
        "/news/gone": (410, "text/plain", b"gone", {}),
        "/news/broken-server": (500, "text/plain", b"oops", {}),
        "/news/loop": (302, "text/plain", b"", {"location": "/news/loop"}),
        "/news/report.pdf": ok("application/pdf", b"%PDF-1.4 binary"),
        "/news/empty": ok(html, "<html><body><nav>Home</nav></body></html>"),
        "/news/bomb": ok(html, bomb, **{"content-encoding": "gzip"}),
        "/news/big": ok(html, page("Big", "x") + "<!--" + "x" * 6_000_000 + "-->"),
    }


def run(urls: list[str], fetcher: Fetcher):
    found = crawl(urls, fetcher)
    return found.articles, found.failed, found.notes


def fetcher(**options) -> Fetcher:
    return Fetcher(allow_private=True, **options)


def test_urls_are_normalised_and_pages_name_their_canonical_address():
    assert (
        normalise("HTTPS://News.Example:443/a?utm_source=x&id=3&fbclid=y#top")
        == "https://news.example/a?id=3"
    )
    assert normalise("http://news.example:8080") == "http://news.example:8080/"
    html = '<html><head><link rel="canonical" href="/story/1?utm_medium=m"></head></html>'
    assert canonical("http://news.example/x?ref=1", html) == "http://news.example/story/1"
    assert canonical("http://news.example/x", "<html><body>no link</body></html>") == "http://news.example/x"


def test_a_feed_an_atom_feed_and_a_sitemap_index_give_their_articles_with_dates(tmp_path):
    with site(news_site) as (base, handler):
        urls = [f"{base}/feed.xml", f"{base}/atom.xml", f"{base}/sitemap-index.xml"]
        articles, failed, notes = run(urls, fetcher())
    found = {a.doc_id: a for a in articles}
    assert set(found) == {
        f"{base}/news/ferry",
        f"{base}/news/notice",
        f"{base}/news/tram",
        f"{base}/news/bridge",
    }
    ferry = found[f"{base}/news/ferry"]
    assert (ferry.title, ferry.published, ferry.url, ferry.source) == (
        "Ferry timetable changes", "2026-11-27", f"{base}/news/ferry", "Harbour Herald"
    )  # fmt: skip
    assert "Marisol" in ferry.text and "Contact us" not in ferry.text
    assert ferry.author == "Ines Marlow", "from the page"
    assert found[f"{base}/news/tram"].author == "Night Desk", "from the feed entry, the page naming none"
    assert found[f"{base}/news/tram"].published == "2026-11-20"
    assert found[f"{base}/news/bridge"].published == "2026-11-25"
    assert found[f"{base}/news/notice"].published == "", "an entry without a date is kept, undated"
    assert sorted(failed) == [
        (f"{base}/news/gone", "the server answered 410 Gone"),
        (f"{base}/private/memo", "robots.txt does not allow news-assistant to fetch it"),
    ]
    assert [reason for url, reason in notes] == []
    assert "/private/memo" not in handler.asked, "robots.txt is respected"
    assert [p for p in handler.asked if p.startswith("/news/ferry")] == ["/news/ferry"], "once, untracked"


def test_every_bad_url_is_one_line_naming_it_and_the_rest_carries_on():
    with site(news_site) as (base, _):
        closed = f"http://127.0.0.1:{free_port()}/news"
        bad = {
            f"{base}/news/broken-server": "the server answered 500 Internal Server Error",
            f"{base}/news/missing": "the server answered 404 Not Found",
            f"{base}/news/slow": "no answer in time",
            f"{base}/news/loop": "more than 5 redirects (a redirect loop?)",
            f"{base}/news/report.pdf": "not an HTML page, a feed or a sitemap (content type application/pdf)",
            f"{base}/news/empty": "no article text found in the HTML",
            f"{base}/news/bomb": "larger than 5 MB",
            f"{base}/news/big": "larger than 5 MB",
            f"{base}/broken.xml": "not a feed or sitemap that can be read (malformed XML)",
            f"{base}/private/memo": "robots.txt does not allow news-assistant to fetch it",
            "file:///etc/passwd": "only http and https URLs are fetched",
            closed: "cannot connect",
            "http://no-such-host.invalid/": "",
        }
        articles, failed, _ = run([*bad, f"{base}/news/tram"], fetcher(timeout_s=2))
    assert [a.title for a in articles] == ["Night tram returns"]
    reasons = dict(failed)
    assert set(reasons) == set(bad)
    for url, expected in bad.items():
        assert expected in reasons[url] and not reasons[url].startswith(url), reasons[url]
    assert reasons["http://no-such-host.invalid/"], "a name that does not resolve says so"


def test_a_feed_of_ten_thousand_entries_is_read_to_a_limit_with_a_note(monkeypatch):
    monkeypatch.setattr("assistant.library.crawl.MAX_ENTRIES", 3)
    with site(news_site) as (base, handler):
        articles, failed, notes = run([f"{base}/huge.xml"], fetcher())
    assert notes == [(f"{base}/huge.xml", "the feed lists 10,000 articles; the newest 3 are read")]
    assert len([p for p in handler.asked if p.startswith("/news/many-")]) == 3
    assert len(failed) == 3 and MAX_ENTRIES == 1000  # those pages do not exist here


def test_a_server_fetching_for_a_browser_user_refuses_its_own_network():
    with site(news_site) as (base, _):
        articles, failed, _ = run([f"{base}/news/tram"], Fetcher(allow_private=False))
    assert articles == []
    assert failed == [(f"{base}/news/tram", "127.0.0.1 is a private or loopback address; not fetched")]


def test_ingest_takes_urls_beside_paths_and_a_second_run_changes_nothing(tmp_path, embedder):
    with site(news_site) as (base, _):
        settings = Settings(index_dir=tmp_path / "index")
        first = Assistant(settings, embedder).library.ingest([f"{base}/feed.xml"])
        assert sorted(first.added) == [f"{base}/news/ferry", f"{base}/news/notice"]
        assert first.failed == [(f"{base}/news/gone", "the server answered 410 Gone")]
        again = Assistant(settings, embedder).library.ingest([f"{base}/feed.xml", f"{base}/news/ferry-copy"])
        assert again.added == [] and sorted(again.unchanged) == [f"{base}/news/ferry", f"{base}/news/notice"]
        assert again.duplicates == [(f"{base}/news/ferry-copy", f"{base}/news/ferry")], "one story, two URLs"
        listed = {d["doc_id"]: d for d in Assistant(settings, embedder).library.documents()}
        assert listed[f"{base}/news/ferry"]["published"] == "2026-11-27"
        result = cli(
            "--index-dir", str(settings.index_dir), "ingest", f"{base}/news/gone", "file:///etc/hosts"
        )
    assert result.returncode == 1
    assert f"failed: {base}/news/gone: the server answered 410 Gone" in result.stderr
    assert "failed: file:///etc/hosts: only http and https URLs are fetched" in result.stderr


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """The tests' server is on loopback: no proxy from the environment stands in the way."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def pages(handler) -> list[tuple[str, int]]:
    """The server's log, less robots.txt (read once a run)."""
    return [(path, status) for path, status in handler.answered if path != "/robots.txt"]


def test_a_second_run_fetches_only_what_changed_and_a_changed_article_is_replaced(tmp_path):
    index = str(tmp_path / "index")
    with site(news_site) as (base, handler):
        first = cli("--index-dir", index, "ingest", f"{base}/feed.xml")
        assert "articles: 2 added" in first.stdout, first.stderr
        handler.answered.clear()
        second = cli("--index-dir", index, "ingest", f"{base}/feed.xml")
        assert pages(handler) == [("/feed.xml", 304)], "the feed has not changed: nothing else is read"
        assert "1 URLs not modified since the last fetch" in second.stdout
        assert second.returncode == 0

        changed = page("Ferry timetable changes", "Esperanza", f"{base}/news/ferry")
        handler.routes["/news/ferry"] = (200, "text/html", changed.encode(), {})
        feed = handler.routes["/feed.xml"]
        handler.routes["/feed.xml"] = (200, feed[1], feed[2].replace(b"Undated notice", b"Notice"), {})
        handler.answered.clear()
        third = cli("--index-dir", index, "ingest", f"{base}/feed.xml")
        assert sorted(pages(handler)) == [
            ("/feed.xml", 200), ("/news/ferry", 200), ("/news/gone", 410), ("/news/notice", 304),
        ]  # fmt: skip
        assert "1 updated" in third.stdout
        answer = cli("--index-dir", index, "search", "Esperanza", "--k", "1")
        assert f"{base}/news/ferry" in answer.stdout


def listed_sources(index: str) -> list[dict]:
    return json.loads(cli("--index-dir", index, "sources", "list", "--json").stdout)


def test_sources_are_kept_fresh_by_watch_within_one_period(tmp_path):
    index = str(tmp_path / "index")
    with site(news_site) as (base, handler):
        feed = f"{base}/feed.xml"
        added = cli("--index-dir", index, "sources", "add", feed, "--every", "2s")
        assert added.returncode == 0 and "read every 2s" in added.stdout
        refusals = [
            (["ftp://x.example/feed"], "is not an http or https URL"),
            ([feed, "--every", "soon"], "'soon' is not a duration such as 45s, 30m, 2h or 1d"),
        ]
        for bad, said in refusals:
            refused = cli("--index-dir", index, "sources", "add", *bad)
            assert refused.returncode != 0 and said in refused.stderr
        (source,) = listed_sources(index)
        assert (source["url"], source["every_s"], source["last_fetch"]) == (feed, 2, "")

        watching = subprocess.Popen(
            [SCRIPT, "--index-dir", index, "watch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(watching.stdout), daemon=True).start()

        def said(text: str, timeout_s: float) -> bool:
            deadline = time.monotonic() + timeout_s
            while not any(text in line for line in lines) and time.monotonic() < deadline:
                time.sleep(0.2)
            return any(text in line for line in lines)

        try:
            assert said(f"{feed}: articles: 2 added", 120), lines  # the first read
            later = page("Lighthouse reopens", "Lumen")
            handler.routes["/news/lighthouse"] = (200, "text/html", later.encode(), {})
            feed_route = handler.routes["/feed.xml"]
            entry = f"<item><title>Lighthouse reopens</title><link>{base}/news/lighthouse</link></item>"
            grown = feed_route[2].replace(b"</channel>", entry.encode() + b"</channel>")
            handler.routes["/feed.xml"] = (200, feed_route[1], grown, {})
            changed_at = time.monotonic()
            assert said(f"{feed}: articles: 1 added", 30), lines
            assert time.monotonic() - changed_at < 2 + 10, "within one period (and the time to read it)"
        finally:
            stop(watching)
        assert "failed: " in watching.stderr.read(), "the entry that is gone, each time the feed was read"
        found = cli("--index-dir", index, "search", "Lumen lighthouse", "--k", "1")
        assert f"{base}/news/lighthouse" in found.stdout

        assert "removed source" in cli("--index-dir", index, "sources", "remove", feed).stdout
        gone = cli("--index-dir", index, "sources", "remove", feed)
        assert gone.returncode != 0 and "no source" in gone.stderr
        assert listed_sources(index) == []


def test_serve_watch_keeps_the_sources_fresh_inside_the_server(tmp_path):
    index = str(tmp_path / "index")
    with site(news_site) as (base, handler):
        assert (
            cli("--index-dir", index, "sources", "add", f"{base}/atom.xml", "--every", "1s").returncode == 0
        )
        port = free_port()
        command = [SCRIPT, "--index-dir", index, "serve", "--port", str(port), "--watch"]
        with running(command, f"http://127.0.0.1:{port}/healthz", tmp_path / "server.log"):
            deadline = time.monotonic() + 60
            listed: set[str] = set()
            while f"{base}/news/tram" not in listed and time.monotonic() < deadline:
                time.sleep(0.5)
                listed = {d["doc_id"] for d in httpx.get(f"http://127.0.0.1:{port}/api/documents").json()}
            assert ("/news/tram", 200) in handler.answered, (tmp_path / "server.log").read_text()
        assert f"{base}/news/tram" in listed, "indexed by the server itself"


def test_an_entry_that_left_the_feed_stays_unless_prune_is_given(tmp_path, embedder):
    settings = Settings(index_dir=tmp_path / "index")
    with site(news_site) as (base, handler):
        feed = f"{base}/feed.xml"
        assert sorted(Assistant(settings, embedder).library.ingest([feed]).added) == [
            f"{base}/news/ferry", f"{base}/news/notice",
        ]  # fmt: skip
        route = handler.routes["/feed.xml"]
        rotated = route[2].replace(b"<title>Undated notice</title>", b"<title>Gone</title>")
        rotated = rotated.replace(f"{base}/news/notice".encode(), f"{base}/news/gone".encode())
        handler.routes["/feed.xml"] = (200, route[1], rotated, {})
        kept = Assistant(settings, embedder).library.ingest([feed])
        assert kept.removed == [], "news does not vanish because a feed rotated"
        pruned = Assistant(settings, embedder).library.ingest([feed, f"{base}/news/tram"], prune=True)
        assert pruned.removed == [f"{base}/news/notice"] and "1 removed" in pruned.summary()
    listed = {d["doc_id"] for d in Assistant(settings, embedder).library.documents()}
    assert listed == {f"{base}/news/ferry", f"{base}/news/tram"}, "an article read directly is no feed's"
