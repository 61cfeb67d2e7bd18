"""Conversations in a real browser: a conversation outlives a reload and a server restart and goes on
with its context; the list switches, renames and deletes; another visitor sees none of them; two
visitors are answered side by side."""

from browsing import ANSWER_TIMEOUT_MS, ask, screenshot
from conftest import free_port, seeded_server, slow_llm
from playwright.sync_api import expect

FIRST = "Why is Marco Rubio not attending the NATO meeting?"
SECOND = "Which countries expressed concerns about the draft peace plan?"


def conversation_list(page):
    return page.locator("#conversation-list")


def test_a_conversation_survives_a_reload_and_a_server_restart(browser, tmp_path_factory, embedder):
    root, port = tmp_path_factory.mktemp("restart"), free_port()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        with seeded_server(root, embedder, port=port) as server:
            page.goto(server.url + "/")
            expect(ask(page, FIRST)).to_contain_text("Rubio")
            expect(conversation_list(page)).to_contain_text(FIRST)
            page.reload()
            expect(page.get_by_test_id("bot")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
            expect(page.get_by_test_id("user")).to_have_text(FIRST)

        with seeded_server(root, embedder, port=port) as server:  # the same address: the same browser storage
            page.goto(server.url + "/")
            expect(page.get_by_test_id("bot")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
            expect(conversation_list(page)).to_contain_text(FIRST)
            follow = ask(page, "Who is going instead?")
            expect(follow).to_contain_text("Christopher Landau")
            expect(follow.locator(".searched")).to_have_text(f"Searched for: {FIRST} Who is going instead?")
            screenshot(page, "conversations.png")
    finally:
        context.close()


def test_the_list_switches_renames_and_deletes_conversations(page, web_server):
    page.goto(web_server.url + "/")
    ask(page, FIRST)
    page.get_by_role("button", name="New conversation").click()
    expect(page.get_by_test_id("bot")).to_have_count(0)
    expect(ask(page, SECOND)).to_contain_text("Germany")
    listed = conversation_list(page)
    expect(listed.get_by_role("radio")).to_have_count(2)

    listed.get_by_text(FIRST).click()  # back to the first one
    expect(page.get_by_test_id("user")).to_have_text(FIRST)
    expect(page.locator("#conversation-title textarea, #conversation-title input")).to_have_value(FIRST)
    title = page.locator("#conversation-title").get_by_role("textbox")
    title.fill("Rubio stays home")
    page.get_by_role("button", name="Rename").click()
    expect(listed).to_contain_text("Rubio stays home")

    page.get_by_role("button", name="Delete").click()
    expect(listed.get_by_role("radio")).to_have_count(1)
    expect(listed).not_to_contain_text("Rubio stays home")
    expect(page.get_by_test_id("bot")).to_have_count(0)
    page.reload()
    expect(conversation_list(page).get_by_role("radio")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(conversation_list(page)).to_contain_text(SECOND)


def test_another_visitor_sees_none_of_them(browser, web_server):
    first = browser.new_context()
    second = browser.new_context()  # another person: another browser's storage
    try:
        mine = first.new_page()
        mine.goto(web_server.url + "/")
        ask(mine, "Where is the NATO meeting held?")
        expect(conversation_list(mine)).to_contain_text("Where is the NATO meeting held?")
        theirs = second.new_page()
        theirs.goto(web_server.url + "/")
        expect(theirs.get_by_role("heading", level=1, name="News assistant")).to_be_visible()
        expect(theirs.get_by_role("button", name="New conversation")).to_be_visible()
        theirs.wait_for_timeout(1_000)  # the list has loaded by now (it comes with the page)
        expect(conversation_list(theirs)).not_to_contain_text("Where is the NATO meeting held?")
        expect(theirs.get_by_test_id("bot")).to_have_count(0)
    finally:
        first.close()
        second.close()


def test_two_visitors_are_answered_side_by_side(browser, tmp_path_factory, embedder):
    """With an LLM that takes 8 s an answer, both chats stream at once: each shows words while the
    other is unfinished (one at a time, the second would show nothing until the first ended)."""
    with slow_llm(words=20, pause_s=0.4) as url:
        env = {"ASSISTANT_LLM_URL": url, "ASSISTANT_LLM_MODEL": "slow", "ASSISTANT_LLM_TIMEOUT_S": "60"}
        with seeded_server(tmp_path_factory.mktemp("together"), embedder, env) as server:
            contexts = [browser.new_context() for _ in range(2)]
            try:
                pages = [context.new_page() for context in contexts]
                boxes = []
                for page in pages:
                    page.goto(server.url + "/")
                    boxes.append(page.get_by_role("textbox", name="Your question"))
                    expect(boxes[-1]).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
                for box in boxes:
                    box.fill(FIRST)
                    box.press("Enter")
                for page in pages:
                    expect(page.get_by_test_id("bot").last).to_contain_text("word word", timeout=6_000)
                assert [page.locator(".answer").count() for page in pages] == [0, 0], "both still streaming"
                for page in pages:
                    expect(page.locator(".answer")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
            finally:
                for context in contexts:
                    context.close()
