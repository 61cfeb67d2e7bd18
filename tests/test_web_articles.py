"""The Articles tab and the upload in a real browser: the list, its search, opening, re-indexing and
removing an article; one line per uploaded file, a clear one for a file that is not an article; a
refusal under an article filter that says the filter was on; a feed added by its address."""

from browsing import ANSWER_TIMEOUT_MS, ask, screenshot
from conftest import seeded_server
from playwright.sync_api import expect
from test_crawl import news_site, site

FERRY = "The harbour ferry now leaves the pier at nine every morning. Tickets cost twelve euros.\n"


def open_articles(page):
    page.get_by_role("tab", name="Articles").click()
    table = page.locator("#articles")
    expect(table).to_contain_text("us-nato-rubio-skips-brussels-meeting.txt", timeout=ANSWER_TIMEOUT_MS)
    return table


def test_uploads_say_what_became_of_each_file_and_the_list_opens_reindexes_and_removes(
    page, web_server, tmp_path
):
    page.goto(web_server.url + "/")
    (tmp_path / "ferry-times.txt").write_text("Ferry times\n\n" + FERRY)
    (tmp_path / "annual-report.pdf").write_bytes(b"%PDF-1.4 not an article")
    (tmp_path / "whole-archive.txt").write_text("Archive\n\n" + FERRY * 30_000)  # 2.6 MB, over 2 MB
    page.locator("input[type=file]").set_input_files(
        [str(tmp_path / name) for name in ("ferry-times.txt", "annual-report.pdf", "whole-archive.txt")]
    )
    expect(page.get_by_text("ferry-times.txt: added")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(page.get_by_text("annual-report.pdf: unsupported file type '.pdf'; articles are")).to_be_visible()
    expect(page.get_by_text("whole-archive.txt: 2.64 MB; articles may be up to 2 MB")).to_be_visible()
    assert page.get_by_text("Error", exact=True).count() == 0, "no bare error badge"

    table = open_articles(page)
    expect(page.locator("#articles-count")).to_contain_text("articles · page 1 of 1")
    page.get_by_label("Search the articles").fill("ferry")
    expect(page.locator("#articles-count")).to_contain_text("1 of ")
    row = table.get_by_text("uploads/ferry-times.txt").last
    expect(row).to_be_visible()
    screenshot(page, "articles.png")
    row.click()
    detail = page.locator("#article-detail")
    expect(detail).to_contain_text("Ferry times")
    with page.expect_popup() as popup:
        detail.get_by_role("link", name="Open the article").click()
    viewer = popup.value
    viewer.wait_for_load_state()
    expect(viewer.locator("h1")).to_have_text("Ferry times")
    viewer.close()

    page.get_by_role("button", name="Re-index").click()
    expect(page.locator("#article-outcome")).to_contain_text(
        "Re-indexed uploads/ferry-times.txt: 1 chunks written"
    )
    page.get_by_role("button", name="Remove").click()
    expect(page.locator("#article-outcome")).to_contain_text("Removed uploads/ferry-times.txt.")
    expect(page.locator("#articles-count")).to_contain_text("0 of ")
    page.get_by_label("Search the articles").fill("")
    expect(table).not_to_contain_text("uploads/ferry-times.txt")


def test_a_refusal_under_an_article_filter_says_the_filter_was_on(page, web_server):
    page.goto(web_server.url + "/")
    page.get_by_label("Search only these articles (none: all)").click()
    page.get_by_role("option", name="us-nato-rubio-skips-brussels-meeting.txt").click()
    page.keyboard.press("Escape")
    answer = ask(page, "What is the recipe for a chocolate cake?")
    expect(answer.locator(".refusal")).to_be_visible()
    expect(answer.locator(".notice")).to_contain_text("Only the 1 article(s) chosen under")


def test_a_feed_added_from_the_articles_tab_brings_its_articles_and_is_kept_fresh(page, tmp_path, embedder):
    allow_loopback = {"ASSISTANT_FETCH_PRIVATE": "true"}  # the test site is on loopback
    with site(news_site) as (base, _), seeded_server(tmp_path, embedder, allow_loopback) as server:
        page.goto(server.url + "/")
        open_articles(page)
        page.get_by_label("Address").fill(f"{base}/feed.xml")
        page.get_by_label("Keep it fresh (every 30 min)").check()
        page.get_by_role("button", name="Add from the web").click()
        outcome = page.locator("#web-outcome")
        expect(outcome).to_contain_text(f"{base}/news/ferry: added", timeout=ANSWER_TIMEOUT_MS)
        expect(outcome).to_contain_text(f"{base}/news/notice: added")
        expect(outcome).to_contain_text(f"{base}/news/gone: the server answered 410 Gone")
        expect(outcome).to_contain_text("kept fresh: read again every 30 minutes")
        listed = page.locator("#sources")
        expect(listed).to_contain_text(f"{base}/feed.xml")
        expect(listed).to_contain_text("error: 1 of its articles could not be read")  # the one gone
        expect(page.locator("#articles")).to_contain_text("Ferry timetable changes")
        screenshot(page, "articles-web.png")


def test_the_server_fetches_nothing_on_its_own_network_for_a_browser_user(page, web_server):
    page.goto(web_server.url + "/")
    open_articles(page)
    page.get_by_label("Address").fill(f"{web_server.url}/healthz")
    page.get_by_role("button", name="Add from the web").click()
    expect(page.locator("#web-outcome")).to_contain_text(
        "127.0.0.1 is a private or loopback address; not fetched", timeout=ANSWER_TIMEOUT_MS
    )
