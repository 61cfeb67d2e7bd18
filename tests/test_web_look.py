"""How the chat looks and reads in a real browser: WCAG AA contrast in the light and the dark theme,
a phone layout whose first screen holds the question box, and names for everything a screen reader
announces."""

import pytest
from browsing import ANSWER_TIMEOUT_MS, ask, screenshot
from playwright.sync_api import expect

QUESTION = "Who will represent the U.S. at the NATO foreign ministers' meeting?"
# the contrast ratio of an element's text against the first opaque background behind it (WCAG 2.x)
CONTRAST_JS = """(element) => {
  const channels = (colour) => (colour.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  let node = element, background = [255, 255, 255];
  while (node) {
    const value = channels(getComputedStyle(node).backgroundColor);
    if (value.length === 3 || (value.length === 4 && value[3] > 0.5)) {
      background = value.slice(0, 3);
      break;
    }
    node = node.parentElement;
  }
  const [a, b] = [luminance(channels(getComputedStyle(element).color)), luminance(background)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""
AA = 4.5


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_quotes_highlights_and_markers_are_readable_in_both_themes(browser, web_server, theme):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=theme)
    try:
        page = context.new_page()
        page.goto(f"{web_server.url}/?__theme={theme}")
        answer = ask(page, QUESTION)
        answer.locator("details.sources summary").click()
        quote = answer.locator("details.sources blockquote").first
        parts = {
            "answer text": answer.locator("p").first,
            "marker": answer.locator("a.cite").first,
            "quoted passage": quote,
            "highlighted span": quote.locator("mark"),
            "sources heading": answer.locator("details.sources summary"),
        }
        ratios = {name: round(part.evaluate(CONTRAST_JS), 2) for name, part in parts.items()}
        assert all(ratio >= AA for ratio in ratios.values()), ratios
        screenshot(page, f"chat-{theme}.png")

        with page.expect_popup() as popup:
            quote.locator("a.open-source").click()
        viewer = popup.value
        viewer.wait_for_load_state()
        for part in ("h1", ".text", "mark#cited"):
            assert viewer.locator(part).evaluate(CONTRAST_JS) >= AA, part
        background = viewer.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(255, 255, 255)") == (theme == "light"), "the viewer follows the theme"
    finally:
        context.close()


def test_a_phone_gets_the_question_box_on_its_first_screen(browser, web_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(web_server.url + "/")
        box = page.get_by_role("textbox", name="Your question")
        expect(box).to_be_in_viewport(timeout=ANSWER_TIMEOUT_MS)
        expect(page.get_by_role("button", name="New conversation")).not_to_be_in_viewport()  # sidebar closed
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the screen"
        answer = ask(page, QUESTION)
        expect(answer).to_contain_text("Christopher Landau")
        expect(answer).to_be_in_viewport()
        screenshot(page, "phone.png")
        page.get_by_role("button", name="Toggle Sidebar").click()
        expect(page.get_by_role("button", name="New conversation")).to_be_in_viewport()
    finally:
        context.close()


def test_what_a_screen_reader_announces_has_a_name(page, web_server):
    page.goto(web_server.url + "/")
    expect(page.get_by_role("heading", level=1, name="News assistant")).to_be_visible()
    box = page.get_by_role("textbox", name="Your question")
    expect(box).to_be_visible()
    expect(page.get_by_role("button", name="Ask", exact=True)).to_be_visible()
    answer = ask(page, QUESTION)
    expect(answer.get_by_role("link", name="[1] source 1: The U.S. and NATO")).to_be_visible()
    expect(page.get_by_role("group", name="Your conversations")).to_be_visible()
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, a[href], textarea, input:not([type=hidden])')]
             .filter((e) => e.offsetParent !== null)
             .filter((e) => !(e.getAttribute('aria-label') || e.textContent.trim() || e.title
                             || (e.labels && e.labels.length && e.labels[0].textContent.trim())))
             .map((e) => e.outerHTML.slice(0, 120))"""
    )
    assert unnamed == [], "controls without a name"


def test_a_new_answer_is_shown_from_its_first_line(browser, web_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(web_server.url + "/")
        for question in ("Why is Marco Rubio not attending the NATO meeting?", "Who used to speak for NATO?"):
            ask(page, question).locator("details.sources summary").click()  # long answers above
        newest = ask(page, QUESTION)
        expect(newest.locator("p").first).to_be_in_viewport(ratio=1)
    finally:
        context.close()
