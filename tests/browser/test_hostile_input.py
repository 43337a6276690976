"""The XSS corpus in real headless Chromium: segment text, translations, annotation bodies,
titles and file names on the review page, dashboard, search and comparison pages, while a
reviewer clicks, edits, saves and opens the history. No payload may run.

The content security policy is bypassed here on purpose: it would stop most payloads by
itself, and what is tested is that the pages never turn text into markup or script.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy.orm import Session

from tests.browser.conftest import log_in, screenshot
from tests.support.hostile import PAYLOADS, WORD, HostileDocument, make_hostile_document

pytestmark = pytest.mark.e2e

RECORDER = """
window.__xss = [];
window.xss = (n) => window.__xss.push(String(n));
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (message) => { window.__xss.push(`${name}:${message}`); return null; };
}
"""


@pytest.fixture
def hostile_page(browser: Browser, live_server: str) -> Iterator[tuple[Page, list[str]]]:
    """A logged-in page that records every payload call and every dialog."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    context.add_init_script(RECORDER)
    page = context.new_page()
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    log_in(page, live_server)
    yield page, dialogs
    context.close()


def ran(page: Page) -> list[str]:
    """Payload calls recorded in the page and in every frame of it."""
    calls: list[str] = []
    for frame in page.frames:
        calls += frame.evaluate("() => window.__xss || []")
    return calls


def visit(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.mouse.move(200, 300)  # hover and focus handlers get their chance
    page.keyboard.press("Tab")
    page.wait_for_timeout(300)  # animations (`onbegin`) and deferred loads


def test_no_hostile_text_runs_as_script_anywhere(
    hostile_page: tuple[Page, list[str]], live_server: str, session: Session
) -> None:
    page, dialogs = hostile_page
    doc: HostileDocument = make_hostile_document(session)
    first_run, second_run = doc.run_ids
    urls = [
        "/",
        f"/documents/{doc.document_id}",
        f"/documents/{doc.document_id}?page=2",
        f"/search?q={WORD}",
        "/search?q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dxss(98)%3E",
        f"/documents/{doc.document_id}/compare?runs={first_run},{second_run}",
    ]
    for url in urls:
        visit(page, f"{live_server}{url}")
        assert ran(page) == [], url
    screenshot(page, "hostile-compare")

    visit(page, f"{live_server}/documents/{doc.document_id}")
    expect(page.locator("h1")).to_contain_text(PAYLOADS[0])  # the title, shown as text
    expect(page.locator(".file-error")).to_contain_text(PAYLOADS[5])  # a file name
    row = page.locator(f"#seg-{doc.segment_ids[0]}")
    expect(row.locator(".text[data-layer='source']")).to_contain_text(PAYLOADS[0])
    expect(row.locator(".notes")).to_contain_text(PAYLOADS[-1])  # an annotation body

    # A reviewer edits a translation into another payload and saves: the row is re-rendered
    # from the server and swapped in by the page's script.
    row.locator(".text[data-layer='source']").click()
    page.keyboard.press("e")
    editor = row.locator("textarea.editor-translation")
    expect(editor).to_be_focused()
    editor.fill(f"{PAYLOADS[1]} {PAYLOADS[2]}")
    page.keyboard.press("Control+Enter")
    expect(row.locator(".text[data-layer='translation']")).to_have_text(
        f"{PAYLOADS[1]} {PAYLOADS[2]}"
    )
    page.keyboard.press("h")  # the history dialog shows before and after
    expect(page.locator("#history")).to_contain_text(PAYLOADS[2])
    page.wait_for_timeout(300)
    screenshot(page, "hostile-history")
    page.keyboard.press("Escape")
    assert ran(page) == []
    assert dialogs == []

    # The recorder does notice a payload that runs: the same text put in unescaped.
    page.set_content(f"<div>{PAYLOADS[1]}{PAYLOADS[0]}</div>")
    page.wait_for_function("() => window.__xss.length >= 2")
    assert sorted(ran(page)) == ["1", "2"]
