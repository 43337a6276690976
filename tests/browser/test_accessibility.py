"""Accessibility of every page family, checked by axe-core in real Chromium."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page
from sqlalchemy.orm import Session

from tests.browser.conftest import PageLog, screenshot
from tests.support.helpers import make_document

pytestmark = pytest.mark.e2e


def violations(page: Page) -> list[str]:
    result = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
    ]


def test_pages_have_no_accessibility_violations(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(session, ["Le roy vint à Paris.", "Fin."], ["The king came.", None])
    pages = [
        "/",
        "/documents/new",
        f"/documents/{document.id}",
        "/search?q=roy",
        f"/documents/{document.id}/annotations",
        "/collections",
        "/account",
    ]
    for path in pages:
        page.goto(f"{live_server}{path}")
        found = violations(page)
        assert found == [], f"{path}: {found}"
    screenshot(page, "07-search")


def test_the_typeface_renders_long_s_and_combining_marks_from_the_app(
    page: Page, live_server: str, session: Session, page_log: PageLog
) -> None:
    document = make_document(session, ["Die Jungfer iſt ſchoͤn, aͤ oͤ uͤ ꝛ"], ["ok"])
    page.goto(f"{live_server}/documents/{document.id}")
    page.evaluate("document.fonts.ready")
    loaded = page.evaluate(
        "Array.from(document.fonts).filter(f => f.status === 'loaded').map(f => f.family)"
    )
    assert "Junicode" in {name.strip('"') for name in loaded}
    covers = page.evaluate("document.fonts.check('17px Junicode', 'ſ aͤ ꝛ')")
    assert covers is True
    assert any("/static/fonts/Junicode-Regular.woff2" in url for url in page_log.requests)


def test_the_api_documentation_loads_from_the_app_alone(
    page: Page, live_server: str, page_log: PageLog
) -> None:
    page.goto(f"{live_server}/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert page.locator(".opblock-summary-path").count() > 20  # the API's routes are listed
    assert any("/static/vendor/swagger-ui/swagger-ui-bundle.js" in u for u in page_log.requests)
