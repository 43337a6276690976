"""Small screens and polish (issue 18, items 10, 12, 16, 20): no page is wider than a
390 px phone, the duplicate notice is one dismissible line, the annotation filters read as
words, dimmed rows keep their contrast, a long title leaves the actions on one line."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from service.documents.models import Collection, SegmentKind, SourceFile
from tests.browser.conftest import log_in, screenshot
from tests.support.helpers import make_document

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Page:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server, role="admin")
    return page


def test_no_page_is_wider_than_a_390_px_screen(
    phone: Page, live_server: str, session: Session
) -> None:
    session.add(Collection(name="Ratsprotokolle der Reichsstadt 1780–1800"))
    document = make_document(
        session,
        ["Le roy vint à Paris avec toute sa cour le 3 may 1750.", "Fin."],
        ["The king came to Paris with all his court on 3 May 1750.", None],
        title="Discours prononcé dans l'Académie royale des sciences et belles-lettres",
    )
    collection = session.query(Collection).one()
    pages = [
        "/",
        "/documents/new",
        f"/documents/{document.id}",
        "/search?q=roy",
        f"/documents/{document.id}/annotations",
        f"/documents/{document.id}/corrections",
        f"/documents/{document.id}/compare",
        "/collections",
        f"/collections/{collection.id}",
        "/account",
        "/admin/users",
    ]
    for path in pages:
        phone.goto(f"{live_server}{path}")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide"
        screenshot(phone, f"phone{path.replace('/', '-').replace('?', '-') or '-home'}")
    # Menus opened on the document page stay on the screen too.
    phone.goto(f"{live_server}/documents/{document.id}")
    for menu in ("details.export-menu", "details.menu:has(#retranslate)", "details.more-menu"):
        phone.click(f"{menu} > summary")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, menu
        screenshot(phone, f"phone-menu-{menu.split('.')[1].split(':')[0]}")
        phone.click(f"{menu} > summary")


def test_a_long_title_leaves_the_actions_on_one_line(
    page: Page, live_server: str, session: Session
) -> None:
    title = (
        "Relación verdadera de las fiestas que la muy noble y muy leal ciudad de Sevilla "
        "hizo al glorioso San Fernando, rey de Castilla y de León, en el año de 1671"
    )
    document = make_document(session, ["Texto."], ["Text."], title=title)
    page.goto(f"{live_server}/documents/{document.id}")
    boxes = page.locator(".doc-actions > *").evaluate_all(
        "els => els.map(e => [e.getBoundingClientRect().top, e.getBoundingClientRect().bottom])"
    )
    # On one line: every action overlaps every other vertically.
    assert max(top for top, _ in boxes) < min(bottom for _, bottom in boxes), boxes
    expect(page.locator("h1")).to_have_text(title)
    screenshot(page, "polish-01-long-title")


def test_duplicates_are_one_dismissible_line_and_filters_are_words(
    page: Page, live_server: str, session: Session
) -> None:
    earlier = [make_document(session, ["Alt."], ["Old."], title=f"Copy {n}") for n in range(4)]
    document = make_document(session, ["Neu."], ["New."], title="Fifth copy")
    for d in [*earlier, document]:
        source = session.query(SourceFile).filter_by(document_id=d.id).one()
        source.sha256, source.filename = "a" * 64, "scan.png"
    session.commit()
    page.goto(f"{live_server}/documents/{document.id}")
    notice = page.locator(".notice.duplicate")
    expect(notice).to_contain_text("scan.png: already uploaded as Copy 0, Copy 1 and 2 more")
    box = notice.bounding_box()
    assert box is not None and box["height"] < 50  # one line, not four boxes
    notice.locator("button[data-action='dismiss']").click()
    expect(notice).to_be_hidden()
    page.reload()
    expect(page.locator(".notice.duplicate")).to_be_hidden()

    page.goto(f"{live_server}/documents/{document.id}/annotations")
    filters = page.locator("nav.filters")
    text = " ".join(filters.inner_text().split())
    assert "person place date organisation" in text, text


def test_dimmed_rows_keep_aa_contrast_and_a_failed_login_keeps_the_name(
    browser: Browser, page: Page, live_server: str, session: Session
) -> None:
    document = make_document(
        session,
        ["12", "Le roy est mort.", "RELATION"],
        [None, "The king is dead.", None],
        kinds=[SegmentKind.PAGE_NUMBER, SegmentKind.PARAGRAPH, SegmentKind.RUNNING_HEAD],
    )
    page.goto(f"{live_server}/documents/{document.id}")
    result = Axe().run(page, context="article.segment", options={"runOnly": ["color-contrast"]})
    assert result.response["violations"] == [], result.response["violations"]

    context = browser.new_context()
    login = context.new_page()
    login.goto(f"{live_server}/login")
    login.fill("#username", "archivist")
    login.fill("#password", "not the password")
    login.click("form.login button[type=submit]")
    expect(login.locator(".errors, .error")).to_be_visible()
    expect(login.locator("#username")).to_have_value("archivist")
    expect(login.locator("#password")).to_have_value("")
    context.close()
