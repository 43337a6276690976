"""The review desk in real headless Chromium: upload, progress, select, edit, annotate, approve,
download — with nothing fetched from another origin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.browser.conftest import screenshot
from tests.conftest import SAMPLES
from tests.fakes.ollama_server import fake_translation
from tests.support.helpers import make_document
from tests.support.workerproc import worker_log

pytestmark = pytest.mark.e2e


def upload_sample(page: Page, live_server: str) -> int:
    page.goto(f"{live_server}/documents/new")
    page.set_input_files("#files", str(SAMPLES / "fra-18c-borrdisc-p0019.tif"))
    page.fill("#title", "Discours académique")
    page.select_option("#source_lang", "fr")
    page.select_option("#target_lang", "en")
    page.select_option("#backend_model", "ollama|llama3.2:3b")
    screenshot(page, "01-upload-form")
    page.click("form.upload button[type=submit]")
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_a_historian_reviews_a_page_end_to_end(
    page: Page, live_server: str, tei_schema: object
) -> None:
    document_id = upload_sample(page, live_server)
    # The progress panel updates by itself; the page reloads with the segments when done.
    done = page.locator(".progress[data-status='done']")
    try:
        expect(done).to_be_visible(timeout=120_000)
    except AssertionError:
        pytest.fail("processing did not finish:\n" + worker_log())
    expect(page.locator("article.segment").first).to_be_visible(timeout=10_000)
    screenshot(page, "02-document-done")
    rows = page.locator("article.segment")
    assert rows.count() >= 3
    prose = page.locator("article.segment:not([class*='kind-'])")  # not running heads etc.

    # Clicking a segment highlights its box on the scan; clicking a box selects its segment.
    second = prose.nth(1)
    seg_id = second.get_attribute("data-segment-id")
    second.locator(".text[data-layer='source']").click()
    expect(page.locator(f".box[data-segment-id='{seg_id}']")).to_have_class(re.compile("selected"))
    first_id = rows.nth(0).get_attribute("data-segment-id")
    page.locator(f".box[data-segment-id='{first_id}']").click()
    expect(page.locator(f"#seg-{first_id}")).to_have_class(re.compile("selected"))
    screenshot(page, "03-selected")

    # Edit the translation inline; it is there after a reload, marked edited.
    row = page.locator(f"#seg-{seg_id}")
    row.locator("button[data-action='edit']").click()
    row.locator("textarea.editor-translation").fill("A translation corrected by hand.")
    row.locator("button[data-action='save']").click()
    expect(page.locator(f"#seg-{seg_id} .text[data-layer='translation']")).to_have_text(
        "A translation corrected by hand."
    )
    page.reload()
    expect(page.locator(f"#seg-{seg_id} .text[data-layer='translation']")).to_have_text(
        "A translation corrected by hand."
    )
    expect(page.locator(f"#seg-{seg_id}")).to_have_attribute("data-status", "edited")

    # Select a word of the source and tag it as a person.
    source = page.locator(f"#seg-{seg_id} .text[data-layer='source']")
    text = source.inner_text()
    word = next(w for w in re.findall(r"\w{5,}", text))
    start = text.index(word)
    page.evaluate(
        """([id, start, end]) => {
            const el = document.querySelector(`#seg-${id} .text[data-layer='source']`);
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            let offset = 0, range = document.createRange(), started = false;
            while (walker.nextNode()) {
              const node = walker.currentNode, len = node.textContent.length;
              if (!started && start < offset + len) {
                range.setStart(node, start - offset); started = true;
              }
              if (started && end <= offset + len) { range.setEnd(node, end - offset); break; }
              offset += len;
            }
            const selection = window.getSelection();
            selection.removeAllRanges(); selection.addRange(range);
            el.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        }""",
        [seg_id, start, start + len(word)],
    )
    expect(page.locator("#annotate-menu")).to_be_visible()
    page.click("#annotate-menu button[data-annotation-type='person']")
    expect(page.locator(f"#seg-{seg_id} .notes")).to_contain_text(word)
    listed = page.request.get(f"{live_server}/api/documents/{document_id}/annotations").json()
    assert [(a["text"], a["type"], a["layer"]) for a in listed] == [(word, "person", "source")]
    screenshot(page, "04-annotated")

    # Approve the whole page.
    page.click("button[data-action='approve-page']")
    page.wait_for_load_state("load")
    expect(page.locator("article.segment[data-status='approved']").first).to_be_visible()
    statuses = {r.get_attribute("data-status") for r in prose.all()}
    assert statuses == {"approved"}  # page furniture (head, page number) is never translated
    screenshot(page, "05-approved")

    # Download the TEI export from the menu.
    page.click("details.export-menu summary")
    page.select_option("form.export select[name=format]", "tei")
    with page.expect_download() as download:
        page.click("form.export button[type=submit]")
    content = Path(download.value.path()).read_bytes()
    root = etree.fromstring(content)
    assert tei_schema.validate(root)  # type: ignore[attr-defined]
    assert b"A translation corrected by hand." in content


def test_keyboard_shortcuts_move_approve_and_show_help(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(
        session, ["Premier.", "Second.", "Troisième."], ["First.", "Second.", "Third."]
    )
    page.goto(f"{live_server}/documents/{document.id}")
    rows = page.locator("article.segment")
    rows.first.focus()
    page.keyboard.press("j")
    second_id = rows.nth(1).get_attribute("data-segment-id")
    expect(page.locator(f"#seg-{second_id}")).to_have_class(re.compile("selected"))
    page.keyboard.press("a")
    expect(page.locator(f"#seg-{second_id}")).to_have_attribute("data-status", "approved")
    page.keyboard.press("k")
    first_id = rows.nth(0).get_attribute("data-segment-id")
    expect(page.locator(f"#seg-{first_id}")).to_have_class(re.compile("selected"))
    page.keyboard.press("e")
    expect(page.locator(f"#seg-{first_id} textarea.editor-translation")).to_be_focused()
    page.keyboard.type(" Really.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#seg-{first_id} .text[data-layer='translation']")).to_have_text(
        "First. Really."
    )
    page.keyboard.press("u")
    expect(page.locator(f"#seg-{first_id} .text[data-layer='translation']")).to_have_text("First.")
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    screenshot(page, "06-help")
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()


def test_a_stale_translation_is_redone_and_two_models_compared(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(session, ["Le roy est mort."], ["The king is dead."])
    page.goto(f"{live_server}/documents/{document.id}")
    row = page.locator("article.segment").first
    row.locator("button[data-action='edit']").click()
    row.locator("textarea.editor-source").fill("Le roi est mort.")
    row.locator("button[data-action='save']").click()
    expect(page.locator("article.segment").first).to_have_attribute("data-status", "stale")

    # "Translate it again" queues a run; the worker answers and the row refreshes itself.
    page.locator("article.segment .stale-note button[data-action='retranslate']").click()
    expect(page.locator("article.segment .text[data-layer='translation']").first).to_have_text(
        fake_translation("Le roi est mort."), timeout=60_000
    )
    expect(page.locator("article.segment").first).to_have_attribute("data-status", "machine")

    # Compare two models on this page: the comparison opens and fills in.
    page.click("details.menu:has(#compare) summary")
    page.check("#compare input[value='ollama|llama3.2:3b']")
    page.check("#compare input[value='ollama|deepseek-r1:1.5b']")
    page.click("#compare button[type=submit]")
    page.wait_for_url(re.compile(r"/compare\?runs=\d+,\d+$"))
    for _ in range(60):
        if page.locator("tr.run-figures .status-done").count() == 2:
            break
        page.wait_for_timeout(1000)
        page.reload()
    assert page.locator("tr.run-figures .status-done").count() == 2
    assert "deepseek-r1:1.5b" in page.content()
    assert fake_translation("Le roi est mort.") in page.content()
    screenshot(page, "08-comparison")
    # The comparison's translations do not replace what the document shows.
    page.goto(f"{live_server}/documents/{document.id}")
    expect(page.locator("article.segment .model").first).to_have_text("llama3.2:3b")
