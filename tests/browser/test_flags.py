"""A doubted translation in real Chromium: its reason on the row, the "needs check" filter,
and approval clearing it; the bundled model's draft notice — all without accessibility
violations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from service.translation.models import Translation
from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import violations
from tests.support.helpers import flag, make_document, segment_ids

pytestmark = pytest.mark.e2e
REASON = "1783 is not in the source"


def test_a_reviewer_finds_a_doubted_row_reads_why_and_approves_it(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(
        session,
        ["Le conseil s'assembla.", "Le bailli parla.", "Fin."],
        ["The council met.", "The bailiff spoke in the year 1783.", "End."],
    )
    first, doubted, _ = segment_ids(session, document.id)
    flag(session, doubted, ("invented_number", REASON))
    page.goto(f"{live_server}/documents/{document.id}")
    expect(page.locator(".progress summary")).to_contain_text("1 needs check")

    row = page.locator(f"#seg-{doubted}")
    note = row.get_by_role("note", name="Why this translation needs checking")
    expect(note).to_be_visible()
    expect(note).to_contain_text(f"invented number: {REASON}")
    expect(row.locator(".badge.status")).to_have_text("needs check")
    expect(page.locator(f"#seg-{first} .flags")).to_have_count(0)
    assert violations(page) == []

    # The filter shows the doubted row alone.
    page.get_by_label("needs check (1)").check()
    expect(row).to_be_visible()
    expect(page.locator(f"#seg-{first}")).to_be_hidden()
    screenshot(page, "09-needs-check")

    # Approving answers the doubt: the row leaves the filter and shows no reason any more.
    row.locator("button[data-action='approve']").click()
    expect(row).to_have_attribute("data-status", "approved")
    expect(row).to_be_hidden()
    page.locator("input[name='status'][value='all']").check()
    expect(row).to_be_visible()
    expect(row.locator(".flags")).to_have_count(0)
    page.reload()
    expect(page.locator(f"#seg-{doubted}")).not_to_contain_text(REASON)
    expect(page.locator(".progress summary")).not_to_contain_text("needs check")


def test_a_link_opens_the_page_with_the_filter_on_and_the_draft_notice_reads_well(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(session, ["Un.", "Deux."], ["One.", "Two."], pages=2)
    session.execute(
        update(Translation)
        .where(Translation.document_id == document.id)
        .values(backend="embedded", model="gemma-3-270m-q4_k_m.gguf")
    )
    session.commit()
    flag(session, segment_ids(session, document.id)[1], ("omission", "the translation is short"))
    page.goto(f"{live_server}/documents/{document.id}")
    notice = page.get_by_role("note", name="Draft translation")
    expect(notice).to_contain_text("ollama pull translategemma:4b")
    screenshot(page, "10-draft")
    page.locator(".progress summary").click()  # the panel of a finished document is closed
    page.get_by_role("link", name="page 2", exact=True).click()
    page.wait_for_url(re.compile(r"page=2&status=needs_check$"))
    expect(page.get_by_label("needs check (1)")).to_be_checked()
    expect(page.locator("article.segment").first).to_contain_text("the translation is short")
    assert violations(page) == []
