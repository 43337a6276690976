"""The IIIF export in a real viewer: Mirador 4 (vendored, tests/browser/vendor/mirador) in
headless Chromium opens the unzipped export from a static server on loopback, as an
archive's site would host it, shows the page image and lists the transcription and the
translation of a segment in its annotation panel. No request leaves loopback, and the XSS
corpus in the transcription runs nothing. The live manifest opens the same way from a page
of the site itself, with the user's session.

The viewer page sits beside manifest.json, so the zip's relative links resolve there (a
viewer elsewhere needs a zip exported with a base URL). Mirador lists only the motivations
of its `annotations.filteredMotivations`; `supplementing` is added to them, as the README
tells Mirador's users.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Dialog, Page, Route, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from service.accounts import service as accounts
from service.accounts.middleware import SESSION_COOKIE
from service.accounts.models import Role
from service.db import unit_of_work
from service.documents.models import Page as PageRow
from service.exports.service import ExportFormat, export
from service.review.models import AnnotationType
from service.storage import get_storage
from tests.browser.conftest import ARTIFACTS
from tests.conftest import DATA_DIR
from tests.support.helpers import annotate, make_document, segment_ids
from tests.support.hostile import WORD, make_hostile_document
from tests.support.servers import StaticServer, served, static_server

VENDOR = Path(__file__).parent / "vendor" / "mirador"
RED = (200, 30, 30)
VIEWER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mirador</title></head>
<body style="margin:0">
<div id="viewer" style="position:absolute;inset:0"></div>
<script src="mirador.min.js"></script>
<script>
Mirador.viewer({
  id: "viewer",
  windows: [{ manifestId: new URL("MANIFEST", location.href).href }],
  window: { sideBarOpen: true, sideBarPanel: "annotations", defaultSidebarPanelWidth: 420 },
  workspaceControlPanel: { enabled: false },
  annotations: {
    filteredMotivations: ["oa:commenting", "oa:tagging", "sc:painting", "commenting",
                          "tagging", "supplementing"],
  },
});
</script>
</body></html>
"""
RECORDER = """
window.__xss = [];
window.xss = (n) => window.__xss.push(String(n));
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (message) => { window.__xss.push(`${name}:${message}`); return null; };
}
"""


def viewer_page(manifest: str) -> str:
    """A page opening one manifest in Mirador (its URL relative to the page)."""
    return VIEWER.replace("MANIFEST", manifest)


def red_scan() -> str:
    """A 1000 x 1500 page image with a red band a screenshot can find; its digest."""
    image = Image.new("RGB", (1000, 1500), "white")
    ImageDraw.Draw(image).rectangle((0, 500, 1000, 1000), fill=RED)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return get_storage().put_bytes(buffer.getvalue())


def hosted(session: Session, document_id: int, folder: Path) -> Path:
    """The document's IIIF zip unzipped into a folder, with Mirador and a viewer page."""
    content = export(session, document_id, ExportFormat.IIIF).content
    zipfile.ZipFile(io.BytesIO(content)).extractall(folder)
    shutil.copy(VENDOR / "mirador.min.js", folder / "mirador.min.js")
    (folder / "index.html").write_text(viewer_page("manifest.json"), encoding="utf-8")
    return folder


@dataclass
class Visit:
    """A page of the viewer, what it asked for beyond loopback, and what ran or popped up."""

    page: Page
    foreign: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def ran(self) -> list[str]:
        calls: list[str] = []
        for frame in self.page.frames:
            calls += frame.evaluate("() => window.__xss || []")
        return calls


@pytest.fixture
def viewer(browser: Browser) -> Iterator[Visit]:
    """A browser page that blocks and records every request not for the static server."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(RECORDER)
    visit = Visit(context.new_page())

    def guard(route: Route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            visit.foreign.append(url)
            route.abort()

    def dismiss(dialog: Dialog) -> None:
        visit.dialogs.append(dialog.message)
        dialog.dismiss()

    context.route("**/*", guard)
    visit.page.on("dialog", dismiss)
    visit.page.on("pageerror", lambda e: visit.errors.append(str(e)))
    yield visit
    context.close()


def open_in_mirador(visit: Visit, site: StaticServer) -> None:
    visit.page.goto(f"{site.base}/index.html")
    expect(visit.page.locator(".mirador-window")).to_be_visible(timeout=30_000)


def red_share(visit: Visit, name: str) -> float:
    """The share of the screenshot's pixels that are the scan's red band."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    visit.page.screenshot(path=str(path))
    with Image.open(path) as shot:
        rgb = np.asarray(shot.convert("RGB")).astype(int)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
    return float(red.mean())


def test_mirador_shows_the_page_and_lists_transcription_and_translation(
    session: Session, viewer: Visit, tmp_path: Path
) -> None:
    document = make_document(
        session,
        ["Monsieur, j'ai reçu votre lettre", "Le pont sera réparé"],
        ["Sir, I received your letter", "The bridge will be repaired"],
        title="Lettre au maire",
        image_sha256=red_scan(),
    )
    annotate(session, segment_ids(session, document.id)[1], 3, 7, AnnotationType.TERM, "pont")
    with static_server(hosted(session, document.id, tmp_path / "site")) as site:
        open_in_mirador(viewer, site)
        listed = viewer.page.get_by_role("menuitem")
        expect(listed.filter(has_text="Monsieur, j'ai reçu votre lettre")).to_have_count(1)
        expect(listed.filter(has_text="Sir, I received your letter")).to_have_count(1)
        expect(listed.filter(has_text="The bridge will be repaired")).to_have_count(1)
        # Two texts per segment and the reviewer's tag ("term", "pont").
        expect(viewer.page.get_by_text("Showing 5 annotations")).to_be_visible()
        viewer.page.wait_for_load_state("networkidle")
        # The scan is painted: its red band fills a good part of the window.
        assert red_share(viewer, "iiif-mirador") > 0.05
        assert "/images/page-0001.png" in site.requests
        assert "/annotations/page-0001.json" in site.requests
    assert viewer.foreign == [], f"requests left loopback: {viewer.foreign}"
    assert viewer.errors == [], viewer.errors


def test_hostile_text_in_the_transcription_stays_inert_in_mirador(
    session: Session, viewer: Visit, tmp_path: Path
) -> None:
    hostile = make_hostile_document(session)
    scan = red_scan()
    session.execute(
        update(PageRow).where(PageRow.document_id == hostile.document_id).values(image_sha256=scan)
    )
    session.commit()
    with static_server(hosted(session, hostile.document_id, tmp_path / "site")) as site:
        open_in_mirador(viewer, site)
        listed = viewer.page.get_by_role("menuitem")
        # 15 segments a page, each with its transcription, translation and note.
        expect(listed.filter(has_text=WORD)).to_have_count(15, timeout=30_000)
        viewer.page.wait_for_load_state("networkidle")
        viewer.page.mouse.move(900, 400)  # hover handlers get their chance
        for item in listed.all()[:10]:
            item.hover()
            item.click()
        viewer.page.keyboard.press("Tab")
        viewer.page.wait_for_timeout(500)  # animations (`onbegin`) and deferred loads
        assert red_share(viewer, "iiif-mirador-hostile") > 0.01
    assert viewer.ran() == [], f"payloads ran: {viewer.ran()}"
    assert viewer.dialogs == []
    assert viewer.foreign == [], f"requests left loopback: {viewer.foreign}"


def test_the_live_manifest_opens_in_mirador_on_the_same_site_with_the_login(
    session: Session, viewer: Visit
) -> None:
    """Mirador on a page of the site itself (fulfilled by the browser, never served by the
    app) opens the live manifest with the user's session cookie."""
    document = make_document(
        session,
        ["Monsieur, j'ai reçu votre lettre"],
        ["Sir, I received your letter"],
        image_sha256=red_scan(),
    )
    with unit_of_work() as db:
        user = accounts.create_user(db, "iiif-reader", "correct horse battery", Role.VIEWER)
        token = accounts.start_session(db, user)
    manifest = f"/api/documents/{document.id}/iiif/manifest.json"
    with served(DATA_DIR / "iiif-live.log") as site:
        viewer.page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": site}])

        def fulfil(route: Route) -> None:
            if route.request.url.endswith("/mirador.min.js"):
                route.fulfill(path=VENDOR / "mirador.min.js", content_type="text/javascript")
            else:
                route.fulfill(body=viewer_page(manifest), content_type="text/html")

        viewer.page.route(f"{site}/mirador-test/*", fulfil)
        viewer.page.goto(f"{site}/mirador-test/index.html")
        expect(viewer.page.locator(".mirador-window")).to_be_visible(timeout=30_000)
        listed = viewer.page.get_by_role("menuitem")
        expect(listed.filter(has_text="Monsieur, j'ai reçu votre lettre")).to_have_count(1)
        expect(listed.filter(has_text="Sir, I received your letter")).to_have_count(1)
        viewer.page.wait_for_load_state("networkidle")
        assert red_share(viewer, "iiif-mirador-live") > 0.05
    assert viewer.foreign == [], f"requests left loopback: {viewer.foreign}"
    assert viewer.errors == [], viewer.errors
