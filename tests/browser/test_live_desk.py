"""The review desk follows the work as it happens and never throws typing away (issue 18,
items 1, 2 and 17): rows appear when a page is read, translations fill in place, an open
editor is never replaced, drafts survive a reload, messages survive updates."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Page, expect
from sqlalchemy.orm import Session

from service.documents.models import SegmentKind
from tests.browser.conftest import screenshot
from tests.browser.test_review_desk import upload_sample
from tests.fakes.ollama_server import FakeOllama
from tests.support.helpers import make_document, segment_ids
from tests.support.workerproc import worker_log

pytestmark = pytest.mark.e2e


def test_rows_appear_when_the_page_is_read_and_translations_fill_in_place(
    page: Page, live_server: str, worker_ollama: FakeOllama
) -> None:
    worker_ollama.delay = 5.0  # a model on a slow CPU: each batch takes 5 s
    try:
        upload_sample(page, live_server)
        page.evaluate("window.__sameDocument = true")  # gone if the page reloads
        prose = page.locator("article.segment:not([class*='kind-'])")
        try:
            expect(prose.first).to_be_visible(timeout=120_000)
        except AssertionError:
            pytest.fail("the page's rows never appeared:\n" + worker_log())
        # The transcription is there while its translation is still at the model.
        expect(prose.first.locator(".translating")).to_have_text("translating…")
        assert prose.first.locator(".text[data-layer='translation']").inner_text() == ""
        assert "Not translated yet" not in page.locator(".segments").inner_text()
        screenshot(page, "live-01-rows-before-translation")
        # Translations fill in row by row, in place.
        expect(prose.first.locator(".text[data-layer='translation']")).to_contain_text(
            "EN:", timeout=120_000
        )
        expect(page.locator(".progress[data-status='done']")).to_be_visible(timeout=120_000)
        for row in prose.all():
            expect(row.locator(".text[data-layer='translation']")).to_contain_text("EN:")
        # Page furniture is kept, neither counted nor shown as waiting for translation.
        furniture = page.locator("article.segment[class*='kind-']")
        assert furniture.count() >= 1
        for row in furniture.all():
            expect(row).to_have_attribute("data-status", "kept")
            expect(row.locator(".cell.translation")).not_to_contain_text("Not translated yet")
        expect(page.locator(".filter [data-count='untranslated']")).to_be_hidden()
        assert page.evaluate("window.__sameDocument") is True
        screenshot(page, "live-02-translated-in-place")
    finally:
        worker_ollama.delay = 0.0


def test_an_open_editor_survives_updates_reloads_and_leaving(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(
        session,
        ["Le roy est mort.", "Vive le roy !", "Fin."],
        ["The king is dead.", "Long live the king!", "End."],
    )
    first, second, _ = segment_ids(session, document.id)
    page.goto(f"{live_server}/documents/{document.id}")
    page.evaluate("window.__sameDocument = true")
    row = page.locator(f"#seg-{first}")
    row.locator("button[data-action='edit']").click()
    editor = row.locator("textarea.editor-translation")
    editor.fill("The king is dead, long live")

    # A colleague approves the page meanwhile: the other rows change in place, this one not.
    page.click("button[data-action='approve-page']")
    expect(page.locator("#flash")).to_have_text("Approved 3 segment(s).")
    expect(page.locator(f"#seg-{second}")).to_have_attribute("data-status", "approved")
    expect(editor).to_have_value("The king is dead, long live")
    expect(row).to_have_class(re.compile("editing"))
    page.wait_for_timeout(1500)  # the update after the approval has come and gone
    expect(page.locator("#flash")).to_have_text("Approved 3 segment(s).")
    assert page.evaluate("window.__sameDocument") is True

    # Leaving with unsaved text asks first; a reload brings the draft back.
    dialogs: list[str] = []

    def answer(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    page.reload()
    assert dialogs == ["beforeunload"]
    restored = page.locator(f"#seg-{first} textarea.editor-translation")
    expect(restored).to_have_value("The king is dead, long live")
    expect(page.locator(f"#seg-{first} .edit-message")).to_have_text(
        "Your unsaved draft was restored."
    )
    # The draft was made against the translation before the approval: saving it shows the
    # colleague's version first instead of overwriting it.
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#seg-{first} .conflict")).to_contain_text("Someone else changed")
    page.locator(f"#seg-{first} .conflict button", has_text="Overwrite with mine").click()
    expect(page.locator(f"#seg-{first} .text[data-layer='translation']")).to_have_text(
        "The king is dead, long live"
    )
    page.reload()  # saved: nothing asks, no draft comes back
    assert dialogs == ["beforeunload"]
    expect(page.locator(f"#seg-{first} textarea")).to_have_count(0)


def test_rows_that_are_never_translated_are_not_approved_or_sent_to_a_model(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(
        session,
        ["12", "Le roy est mort.", "Vive le roy !"],
        [None, "The king is dead.", None],
        kinds=[SegmentKind.PAGE_NUMBER, SegmentKind.PARAGRAPH, SegmentKind.PARAGRAPH],
    )
    number, _, untranslated = segment_ids(session, document.id)
    page.goto(f"{live_server}/documents/{document.id}")
    expect(page.locator(f"#seg-{number}")).to_have_attribute("data-status", "kept")
    expect(page.locator(f"#seg-{number} .cell.translation")).to_have_text(
        re.compile(r"Not translated: page number")
    )
    expect(page.locator(".filter [data-count='untranslated']")).to_have_text("1")
    expect(page.locator(".filter [data-count='kept']")).to_have_text("1")

    page.locator(f"#seg-{untranslated}").focus()
    page.keyboard.press("a")
    expect(page.locator("#flash")).to_have_text("There is no translation to approve yet.")
    expect(page.locator(f"#seg-{untranslated}")).to_have_attribute("data-status", "untranslated")

    page.locator(f"#seg-{number}").focus()
    page.keyboard.press("r")
    expect(page.locator("#flash")).to_contain_text("not translated")
    runs = page.request.get(f"{live_server}/api/documents/{document.id}/translation-runs")
    assert runs.json() == []
    refused = page.request.post(
        f"{live_server}/api/segments/{number}/retranslate", headers={"Origin": live_server}
    )
    assert refused.status == 422
    assert "page number" in refused.json()["message"]
