"""Translation runs on the review desk (issue 18, items 3 and 11): only a model that answers
is preselected, the others are marked; a run waiting for a server that is not there says
why and until when, and can be cancelled from the page; progress bars draw failures apart."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from service.jobs.models import Job, JobStage
from tests.browser.conftest import screenshot
from tests.support.helpers import make_document

pytestmark = pytest.mark.e2e


def test_only_an_answering_model_is_preselected_and_a_waiting_run_can_be_cancelled(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(session, ["Le roy est mort.", "Vive le roy !"], ["a", "b"])
    page.goto(f"{live_server}/documents/{document.id}")
    engine = page.locator("#retranslate select[name='backend_model']")
    # The document's own model answers (the Ollama stand-in): it is the one preselected.
    expect(engine).to_have_value("ollama|llama3.2:3b")
    openai = page.locator("#retranslate option[value='openai|']")
    expect(openai).to_contain_text("not answering")
    expect(page.locator("#compare label.not-answering")).to_contain_text("OpenAI-compatible")
    expect(page.locator("#compare label:not(.not-answering)").first).not_to_contain_text(
        "not answering"
    )

    # Asked anyway, the server that is not there keeps the run waiting, with the reason.
    page.click("details.menu:has(#retranslate) summary")
    engine.select_option("openai|")
    page.click("#retranslate button[type=submit]")
    waiting = page.locator(".runs .waiting")
    expect(waiting).to_contain_text("Waiting for the model", timeout=60_000)
    expect(waiting).to_contain_text("Fails with this reason in")
    page.evaluate("window.__sameDocument = true")
    screenshot(page, "runs-01-waiting")

    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.locator(".runs button[data-action='cancel-run']").click()
    expect(page.locator(".runs .stage-status").first).to_have_text("cancelled")
    expect(page.locator(".runs .error").first).to_contain_text("Cancelled by")
    expect(page.locator(".runs .waiting")).to_have_count(0)
    assert dialogs and "Stop this run" in dialogs[0]
    assert page.evaluate("window.__sameDocument") is True
    rows = page.locator("article.segment .text[data-layer='translation']")
    expect(rows.first).to_have_text("a")  # the translations the document had stay
    screenshot(page, "runs-02-cancelled")


def test_progress_bars_draw_done_and_failed_apart(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(session, ["Le roy est mort."], ["a"])
    session.execute(
        update(Job)
        .where(Job.document_id == document.id, Job.stage == JobStage.TRANSLATE)
        .values(done=15, failed=13, total=28)
    )
    session.commit()
    for url in (f"/documents/{document.id}", "/"):
        page.goto(f"{live_server}{url}")
        if url != "/":  # a finished document's panel is folded
            page.click(".progress summary")
        bar = page.locator(".bar[aria-label^='translate progress']")
        expect(bar).to_have_attribute("aria-valuetext", "15 of 28 done, 13 failed")
        whole = bar.bounding_box()
        done = bar.locator(".bar-done").bounding_box()
        failed = bar.locator(".bar-failed").bounding_box()
        assert whole and done and failed
        assert abs(done["width"] / whole["width"] - 15 / 28) < 0.05
        assert abs(failed["width"] / whole["width"] - 13 / 28) < 0.05
        assert failed["x"] >= done["x"] + done["width"] - 1  # side by side, not on top
        red = bar.locator(".bar-failed").evaluate("e => getComputedStyle(e).backgroundColor")
        green = bar.locator(".bar-done").evaluate("e => getComputedStyle(e).backgroundColor")
        assert red != green and re.match(r"rgb", red)
