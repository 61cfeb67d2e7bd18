"""What the browser tests share: Debian's Chromium driven by Playwright, a page at desktop size, and
asking the chat a question the way a person does."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ANSWER_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def ask(page: Page, question: str):
    """Type a question in the chat and wait for the finished answer; returns its message. The answer
    is looked for in the reply after those already shown, so the previous one is never taken for it."""
    replies = page.get_by_test_id("bot")
    shown = replies.count()
    box = page.locator("#question").get_by_test_id("textbox")
    box.fill(question)
    box.press("Enter")
    expect(replies).to_have_count(shown + 1, timeout=ANSWER_TIMEOUT_MS)
    answer = replies.nth(shown).locator(".answer")
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    return answer


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
