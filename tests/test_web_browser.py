"""The chat, the article viewer and the widget in a real browser: Debian's Chromium driven by Playwright.

Screenshots go to test-artifacts/ (git-ignored); the README shows copies of them. The stored
conversations are in test_web_conversations.py.
"""

import contextlib
import functools
import http.server
import threading

import httpx
import pytest
from browsing import ANSWER_TIMEOUT_MS, ask, screenshot
from conftest import free_port, saved_feedback, seeded_server
from playwright.sync_api import expect

QUESTION = "Who will represent the U.S. at the NATO foreign ministers' meeting?"
PAYLOAD_ARTICLE = """# Harbour ferry news

The harbour ferry <script>window.__pwned = 1</script> now leaves the pier at nine every morning.
Tickets for the harbour ferry <img src=x onerror="window.__pwned = 2"> cost twelve euros for adults
![map](http://127.0.0.1:9/map.png) [[1]](http://127.0.0.1:9/fake).
The [timetable](javascript:window.__pwned=3) is posted online, <a href="javascript:window.__pwned=4">here</a>.
"""


def test_chat_answers_with_a_marker_and_the_source_opens_highlighted(page, web_server):
    page.goto(web_server.url + "/")
    expect(page.get_by_text("offline extractive")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="News assistant")).to_be_visible()  # the page's h1
    answer = ask(page, QUESTION)
    expect(answer).to_contain_text("Christopher Landau")
    marker = answer.get_by_role("link", name="[1] source 1: The U.S. and NATO")  # named by its source
    box = marker.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, "a target a finger can hit"
    sources = answer.locator("details.sources")
    expect(sources.locator("summary")).to_have_text("Sources (1)")
    assert sources.evaluate("details => details.open") is False, "the sources start collapsed"
    marker.hover()
    expect(marker.get_by_role("tooltip")).to_be_visible()  # the quoted span, previewed
    expect(marker.get_by_role("tooltip")).to_contain_text("Christopher Landau")
    screenshot(page, "chat.png")
    marker.click()  # jumps to its entry, which opens the sources
    entry = sources.locator("blockquote").first
    expect(entry).to_be_in_viewport()
    expect(entry.locator("mark")).to_contain_text("Christopher Landau")
    assert sources.evaluate("details => details.open") is True

    with page.expect_popup() as popup:
        answer.locator("a.open-source").first.click()
    article = popup.value
    article.wait_for_load_state()
    cited = article.locator("mark#cited")
    expect(cited).to_contain_text("Christopher Landau")
    expect(cited).to_be_in_viewport()
    expect(article.locator("h1")).to_have_text(
        "The U.S. and NATO: A Changing Dynamic Amidst Ongoing Ukraine Talks"
    )
    screenshot(article, "article.png")


def test_a_follow_up_is_answered_and_shows_what_was_searched(page, web_server):
    page.goto(web_server.url + "/")
    first = ask(page, "Why is Marco Rubio not attending the NATO meeting?")
    expect(first.locator(".searched")).to_have_count(0)
    follow = ask(page, "Who is going instead?")
    expect(follow).to_contain_text("Christopher Landau")
    expect(follow.locator(".searched")).to_have_text(
        "Searched for: Why is Marco Rubio not attending the NATO meeting? Who is going instead?"
    )


def test_refusal_feedback_and_new_conversation(page, web_server):
    page.goto(web_server.url + "/")
    answer = ask(page, "On what date is the meeting?")
    expect(answer.locator(".refusal")).to_have_text("I could not find the answer to that in the articles.")

    page.get_by_label("Comment (optional, sent with thumbs up or down)").fill("honest refusal")
    page.get_by_role("button", name="Like").last.click()
    expect(page.get_by_text("your feedback was saved")).to_be_visible()
    saved = saved_feedback(web_server.index_dir)
    assert any(
        e["rating"] == "up"
        and e["comment"] == "honest refusal"
        and e["question"] == "On what date is the meeting?"
        for e in saved
    )

    page.get_by_role("button", name="New conversation").click()
    expect(page.get_by_test_id("bot")).to_have_count(0)


@contextlib.contextmanager
def page_server(folder, port: int, server_url: str):
    """Another site (a loopback port of its own) whose page embeds the chat with one script tag."""
    (folder / "index.html").write_text(
        "<!doctype html><html><head><title>Daily Planet</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
        "<h1>Daily Planet</h1><p>Our coverage of the NATO meeting.</p>"
        f'<script src="{server_url}/widget.js" data-title="Ask our articles" data-color="#7a1f5f" async>'
        "</script></body></html>"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/index.html"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def widget_page(web_server, tmp_path):
    """A page on an origin the server lets embed the chat (ASSISTANT_EMBED_ORIGINS)."""
    with page_server(tmp_path, web_server.page_port, web_server.url) as url:
        yield url


def test_widget_on_another_origin_answers_with_sources(page, widget_page):
    page.goto(widget_page)
    button = page.locator("#news-assistant-button")
    expect(button).to_have_text("Ask our articles")
    button.click()
    frame = page.frame_locator("#news-assistant-panel iframe")
    box = frame.locator("#question").get_by_test_id("textbox")
    expect(box).to_be_focused(timeout=ANSWER_TIMEOUT_MS)  # the focus goes into the chat
    box.fill(QUESTION)
    box.press("Enter")
    answer = frame.get_by_test_id("bot").last.locator(".answer")
    expect(answer).to_contain_text("Christopher Landau", timeout=ANSWER_TIMEOUT_MS)
    expect(answer.locator("details.sources mark")).to_contain_text("Christopher Landau")
    assert frame.locator("footer").count() == 0, "no Gradio footer in the widget"
    screenshot(page, "widget.png")

    box.press("Escape")  # in the chat: the page around it closes the panel
    panel = page.locator("#news-assistant-panel")
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    page.reload()  # the widget keeps this visitor's conversation
    page.locator("#news-assistant-button").click()
    restored = page.frame_locator("#news-assistant-panel iframe").get_by_test_id("bot")
    expect(restored).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(restored.locator(".answer")).to_contain_text("Christopher Landau")
    page.get_by_role("button", name="Close").click()
    expect(page.locator("#news-assistant-panel")).to_be_hidden()


def test_widget_fills_a_phone_screen(browser, widget_page):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        phone.goto(widget_page)
        phone.locator("#news-assistant-button").click()
        panel = phone.locator("#news-assistant-panel")
        chat = phone.frame_locator("#news-assistant-panel iframe").get_by_test_id("textbox")
        expect(chat).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        assert panel.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 844}
        expect(phone.get_by_role("button", name="Close")).to_be_visible()
        screenshot(phone, "widget-phone.png")
        phone.keyboard.press("Escape")
        expect(panel).to_be_hidden()
    finally:
        context.close()


def test_widget_on_a_site_not_allowed_says_so(page, web_server, tmp_path):
    with page_server(tmp_path, free_port(), web_server.url) as url:  # not in ASSISTANT_EMBED_ORIGINS
        page.goto(url)
        page.locator("#news-assistant-button").click()
        alert = page.locator("#news-assistant-panel").get_by_role("alert")
        expect(alert).to_contain_text("does not allow this site")
        expect(alert).to_contain_text("ASSISTANT_EMBED_ORIGINS")
        assert page.locator("#news-assistant-panel iframe").count() == 0, "no broken frame"

    page.goto(web_server.url + "/")  # the chat's embedding panel says the same
    page.get_by_text("Embed this chat").click()
    expect(page.get_by_text("Another site can show this chat only if its origin")).to_contain_text(
        f"ASSISTANT_EMBED_ORIGINS on this server; now: http://127.0.0.1:{web_server.page_port}"
    )


def test_scripts_in_articles_never_run(page, web_server, tmp_path):
    page.goto(web_server.url + "/")
    article = tmp_path / "harbour-ferry.md"
    article.write_text(PAYLOAD_ARTICLE)
    page.locator("input[type=file]").set_input_files(str(article))
    expect(page.get_by_text("harbour-ferry.md: added")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)

    answer = ask(page, "How much do tickets for the harbour ferry cost?")
    expect(answer).to_contain_text("twelve euros")
    expect(answer).to_contain_text('<img src=x onerror="window.__pwned = 2">')  # shown as text
    assert page.evaluate("window.__pwned") is None
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert page.locator(".answer img, .answer script").count() == 0
    expect(answer).to_contain_text("![map](http://127.0.0.1:9/map.png) [[1]](http://127.0.0.1:9/fake)")
    assert page.locator('[src*="127.0.0.1:9"], [href*="127.0.0.1:9"]').count() == 0, "nothing loads or links"

    answer.locator("details.sources summary").click()
    with page.expect_popup() as popup:
        answer.locator("a.open-source").first.click()
    viewer = popup.value
    viewer.wait_for_load_state()
    expect(viewer.locator(".text")).to_contain_text("<script>window.__pwned = 1</script>")
    assert viewer.evaluate("window.__pwned") is None
    assert viewer.locator('a[href^="javascript:"], img, .text script').count() == 0


def test_scripts_in_questions_titles_and_api_uploads_never_run(page, web_server):
    article = (
        '<svg onload="window.__pwned = 6">Lighthouse</svg> news\n\n'
        "The old lighthouse reopens for visitors on Saturday morning. "
        '<iframe srcdoc="<script>parent.__pwned = 7</script>"></iframe> '
        "Guided tours of the lighthouse cost five euros."
    )
    added = httpx.post(
        f"{web_server.url}/api/documents",
        params={"filename": "light<b>house.txt"},
        content=article.encode(),
        headers={"content-type": "text/html"},
    )
    doc_id = added.json()["doc_id"]
    assert (
        added.status_code == 201 and doc_id.startswith("uploads/light-b-house-") and doc_id.endswith(".txt")
    )
    page.goto(web_server.url + "/")
    question = '<img src=x onerror="window.__pwned = 5"> How much do guided tours of the lighthouse cost?'
    answer = ask(page, question)
    expect(answer).to_contain_text("five euros")
    expect(page.get_by_test_id("user").last).to_contain_text('<img src=x onerror="window.__pwned = 5">')
    expect(answer).to_contain_text("<svg onload=")  # the title, in the sources, as text
    assert page.evaluate("window.__pwned") is None
    assert page.locator("iframe[srcdoc], svg[onload], img[onerror]").count() == 0
    viewer = page.context.new_page()
    viewer.goto(f"{web_server.url}/view?doc_id={doc_id}")
    expect(viewer.locator(".text")).to_contain_text("<iframe srcdoc=")
    assert viewer.evaluate("window.__pwned") is None and viewer.locator("iframe, svg").count() == 0


def test_evaluate_tab_runs_a_question_set(page, web_server):
    page.goto(web_server.url + "/")
    page.get_by_role("tab", name="Evaluate").click()
    page.get_by_role("button", name="Run evaluation").click()
    result = page.locator(".evaluation")
    expect(result.locator("svg.chart")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(result.locator("table")).to_contain_text("hybrid/extractive/k5")
    expect(result).to_contain_text("Scored collection")
    assert str(web_server.index_dir) not in page.content()  # no server folder shown to visitors
    assert list((web_server.index_dir / "reports").glob("first-questions-*/report.html"))  # a job of its own
    screenshot(page, "evaluate.png")


def test_keys_guard_uploads_and_the_chat_is_rate_limited(page, tmp_path, embedder):
    key = "browser-test-key-0123456789"
    env = {"ASSISTANT_API_KEYS": key, "ASSISTANT_RATE_LIMIT": "1"}  # one question, then 60 s to wait
    with seeded_server(tmp_path, embedder, env) as server:
        page.goto(server.url + "/")
        article = tmp_path / "lighthouse.txt"
        article.write_text("Lighthouse news\n\nGuided tours of the old lighthouse cost five euros.")
        expect(page.get_by_text("Type the API key to add articles.")).to_be_visible()
        upload = page.locator("input[type=file]")
        expect(upload).to_have_count(0)  # no upload area before a key
        sent = {"multipart": {"files": {"name": "x.txt", "mimeType": "text/plain", "buffer": b"Planted"}}}
        assert page.request.post(f"{server.url}/gradio_api/upload", **sent).status == 401

        key_field = page.get_by_label("API key (needed to change the index or run evaluations)").first
        key_field.fill("not-the-key-at-all")
        expect(page.get_by_text("That API key is not valid.")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        with page.expect_response(lambda r: r.url.endswith("/api/upload-pass")) as granted:
            key_field.fill(key)
        assert granted.value.status == 204
        expect(page.get_by_text("Key accepted")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        assert page.request.post(f"{server.url}/gradio_api/upload", **sent).status == 200  # the pass
        upload.set_input_files(str(article))
        expect(page.get_by_text("lighthouse.txt: added")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)

        expect(ask(page, "How much do guided tours of the lighthouse cost?")).to_contain_text("five euros")
        box = page.locator("#question").get_by_test_id("textbox")  # the 2nd question within the minute
        box.fill("And the ferry?")
        box.press("Enter")
        refusal = page.get_by_test_id("bot").last.locator(".error")
        expect(refusal).to_contain_text("Too many questions from here", timeout=ANSWER_TIMEOUT_MS)

        page.get_by_role("tab", name="Articles").click()  # removing one needs the key there too
        page.locator("#articles").get_by_text("uploads/lighthouse.txt").last.click()
        page.get_by_role("button", name="Remove").click()
        outcome = page.locator("#article-outcome")
        expect(outcome).to_contain_text("Re-indexing and removing articles need the API key")
        page.get_by_label("API key (needed to change the index or run evaluations)").filter(
            visible=True
        ).fill(key)
        page.get_by_role("button", name="Remove").click()
        expect(outcome).to_contain_text("Removed uploads/lighthouse.txt.")


def test_another_page_cannot_plant_articles_or_read_the_chat(page, web_server, tmp_path):
    """A page on another loopback port (not an embed origin) tries what the server's loopback rule
    once let through: a no-cors fetch and an auto-submitted form posting an article, and reading
    Gradio's endpoints with the user's credentials."""
    from conftest import free_port

    target = f"{web_server.url}/api/documents?filename="
    (tmp_path / "fetch.html").write_text(
        "<!doctype html><html><body><script>"
        f'fetch("{target}planted-fetch.txt", {{method: "POST", mode: "no-cors", body: "Planted text"}})'
        '.then(() => { document.title = "sent"; }, () => { document.title = "sent"; });'
        f'fetch("{web_server.url}/gradio_api/info", {{credentials: "include"}})'
        '.then(r => r.text()).then(t => { window.__read = t; }, () => { window.__read = "blocked"; });'
        "</script></body></html>"
    )
    (tmp_path / "form.html").write_text(
        "<!doctype html><html><body>"
        f'<form id="f" method="POST" enctype="text/plain" action="{target}planted-form.txt">'
        '<input name="Planted text about the harbour" value="x"></form>'
        '<script>document.getElementById("f").submit();</script></body></html>'
    )
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{port}/fetch.html")
        page.wait_for_function("document.title === 'sent' && window.__read !== undefined", timeout=20_000)
        assert page.evaluate("window.__read") == "blocked"
        page.goto(f"http://127.0.0.1:{port}/form.html")
        page.wait_for_url("**/api/documents?filename=planted-form.txt", timeout=20_000)
        expect(page.locator("body")).to_contain_text("cross-site request refused")
    finally:
        server.shutdown()
        server.server_close()
    documents = {d["doc_id"] for d in httpx.get(f"{web_server.url}/api/documents").json()}
    assert not {"uploads/planted-fetch.txt", "uploads/planted-form.txt"} & documents
    assert not (web_server.index_dir / "uploads" / "planted-fetch.txt").exists()


def test_an_empty_question_is_not_sent_and_the_trash_icon_starts_a_new_conversation(page, web_server):
    page.goto(web_server.url + "/")
    box = page.locator("#question").get_by_test_id("textbox")
    box.press("Enter")  # nothing typed
    page.wait_for_timeout(1_000)
    assert page.get_by_test_id("bot").count() == 0 and page.get_by_test_id("user").count() == 0
    assert page.get_by_text("Error", exact=True).count() == 0, "no error overlay over the chat"
    expect(box).to_be_editable()

    first = ask(page, "Why is Marco Rubio not attending the NATO meeting?")
    expect(first).to_contain_text("Rubio")
    page.locator("#component-0, body").first.get_by_role("button", name="Clear").first.click()
    expect(page.get_by_test_id("bot")).to_have_count(0)
    after = ask(page, "Who is going instead?")
    expect(after).not_to_contain_text("Searched for:"), "the cleared conversation is not asked about again"
