"""The transcription editor in real Chromium: a handwritten page typed line by line with the
keyboard alone, and its regions and lines edited on the scan with the mouse."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents.models import Segment, SegmentKind
from service.transcription.models import ProposalStatus, ProposalUnit, TranscriptionProposal
from tests.browser.conftest import log_in, screenshot
from tests.browser.test_accessibility import violations
from tests.browser.test_hostile_input import RECORDER, ran
from tests.conftest import SHARED_DATA, reset_caches
from tests.fakes.ollama_server import FakeOllama, fake_translation, wait_until
from tests.support.helpers import handwritten_page
from tests.support.hostile import PAYLOADS
from tests.support.workerproc import worker_log

pytestmark = pytest.mark.e2e
CANDIDE = SHARED_DATA / "pages" / "fra-hand-c1758-candide-ms-p2"
VISION = "qwen2.5vl:7b"


def gt_lines(folder: Path) -> list[str]:
    return [line for line in (folder / "gt.txt").read_text().splitlines() if line.strip()]


def typed(session: Session, page_id: int) -> list[Segment]:
    session.expire_all()
    return list(
        session.scalars(
            select(Segment)
            .where(Segment.page_id == page_id, Segment.kind == SegmentKind.MANUAL)
            .order_by(Segment.position)
        )
    )


def test_a_page_is_typed_line_by_line_with_the_keyboard_alone(
    page: Page, live_server: str, session: Session
) -> None:
    row = handwritten_page(session, CANDIDE)
    page.goto(f"{live_server}/documents/{row.document_id}/pages/1/transcribe")
    fields = page.locator("input.tx-text")
    expect(fields.first).to_be_focused()  # the first empty line waits for the keyboard
    count = fields.count()
    assert count >= 20
    lines = gt_lines(CANDIDE)
    keys = {"text": 0, "other": 0}
    # Type every line of the first two regions and the first of the third: text and Enter.
    groups = page.locator("section.tx-group")
    counts = [groups.nth(i).locator("input.tx-text").count() for i in range(3)]
    assert counts[2] > 1
    to_type = lines[: counts[0] + counts[1] + 1]
    for text in to_type:
        page.keyboard.type(text, delay=0)
        keys["text"] += len(text)
        page.keyboard.press("Enter")
        keys["other"] += 1
    expect(page.locator("#tx-saved")).to_have_text("All changes saved", timeout=20_000)
    screenshot(page, "transcribe-01-typed")
    assert keys["other"] == len(to_type)  # one non-typing key a line: Enter

    # A region left by Enter from its last line is saved finished (and translated); the
    # third, left in the middle, is a draft.
    segments = typed(session, row.id)
    assert [s.draft for s in segments] == [False, False, True]
    assert segments[0].text == "\n".join(to_type[: counts[0]])
    assert segments[1].text == "\n".join(to_type[counts[0] : counts[0] + counts[1]])
    assert segments[2].text.split("\n")[0] == to_type[-1]
    page.reload()
    values = [fields.nth(i).input_value() for i in range(len(to_type))]
    assert values == to_type  # nothing is lost on reload
    status = page.locator("#tx-page-status")
    expect(status).to_have_text("transcribed by hand (2 segments, 1 draft)")

    # The desk shows the typed region with its translation, made by the pipeline's worker.
    page.goto(f"{live_server}/documents/{row.document_id}?page=1")
    manual = page.locator("article.segment.kind-manual").first
    expect(manual.locator(".text[data-layer='translation']")).to_have_text(
        fake_translation(segments[0].normalized), timeout=60_000
    )
    expect(page.locator(".notice.transcribed")).to_contain_text("transcribed by hand")
    screenshot(page, "transcribe-02-desk")


def test_words_are_marked_unclear_and_lines_walked_back_with_the_keyboard(
    page: Page, live_server: str, session: Session
) -> None:
    row = handwritten_page(session, CANDIDE)
    page.goto(f"{live_server}/documents/{row.document_id}/pages/1/transcribe")
    expect(page.locator("input.tx-text").first).to_be_focused()
    page.keyboard.type("le Baron de Thunder ten tronckh")
    page.keyboard.press("Alt+U")  # the word at the cursor
    expect(page.locator(".tx-row").first.locator(".tx-unclear")).to_contain_text("tronckh")
    page.keyboard.press("Enter")
    page.keyboard.type("un jeune garçon")
    page.keyboard.press("ArrowUp")
    expect(page.locator("input.tx-text").first).to_be_focused()
    page.keyboard.type(" !")
    expect(page.locator("#tx-saved")).to_have_text("All changes saved", timeout=20_000)
    first, second = typed(session, row.id)[:2]
    assert first.text.split("\n")[0] == "le Baron de Thunder ten tronckh !"
    assert second.text.split("\n")[0] == "un jeune garçon"
    page.reload()
    expect(page.locator(".tx-row").first.locator(".tx-unclear")).to_contain_text("tronckh")


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=4)
    page.mouse.move(*end, steps=4)
    page.mouse.up()


def centre(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_regions_and_lines_are_edited_on_the_scan_with_the_mouse(
    page: Page, live_server: str, session: Session
) -> None:
    row = handwritten_page(session, CANDIDE)
    page.goto(f"{live_server}/documents/{row.document_id}/pages/1/transcribe")
    regions = page.locator(".tx-overlay .tx-region")
    expect(regions.first).to_be_visible()
    before = regions.count()
    layout = page.request.get(f"{live_server}/api/pages/{row.id}/lines").json()

    # Drag the first line down: it moves, and the move is kept.
    first_line = page.locator(".tx-overlay .tx-line").first
    x, y = centre(page, ".tx-overlay .tx-line >> nth=0")
    first_line.click()
    drag(page, (x, y), (x, y + 30))
    expect(page.locator("#tx-saved")).to_have_text("All changes saved", timeout=20_000)
    moved = page.request.get(f"{live_server}/api/pages/{row.id}/lines").json()
    assert moved["version"] > layout["version"]
    before_boxes = {tuple(line["bbox"]) for line in layout["lines"]}
    after_boxes = {tuple(line["bbox"]) for line in moved["lines"]}
    [old], [new] = before_boxes - after_boxes, after_boxes - before_boxes  # one line moved
    assert (new[0], new[2]) == (old[0], old[2]) and new[1] > old[1] + 50

    # Draw a new region in the margin with the tool.
    page.click("button[data-tool='region']")
    box = page.locator(".tx-canvas").bounding_box()
    assert box is not None
    drag(page, (box["x"] + 5, box["y"] + 5), (box["x"] + 60, box["y"] + 25))
    page.click("button[data-tool='region']")
    expect(regions).to_have_count(before + 1)
    expect(page.locator("#tx-saved")).to_have_text("All changes saved", timeout=20_000)

    # Resize the widest line from its corner handle.
    lines = page.locator(".tx-overlay .tx-line")
    widths = [
        box["width"] for box in (lines.nth(i).bounding_box() for i in range(lines.count())) if box
    ]
    widest = widths.index(max(widths))
    lines.nth(widest).click()
    hx, hy = centre(page, f".tx-overlay .tx-line >> nth={widest} >> .tx-handle.se")
    drag(page, (hx, hy), (hx - 40, hy + 10))
    resized = lines.nth(widest).bounding_box()
    assert resized is not None and resized["width"] < max(widths) - 30

    # Delete the narrowest line (a flourish taken for a line) with the Delete key.
    count = lines.count()
    widths = [box["width"] for box in (lines.nth(i).bounding_box() for i in range(count)) if box]
    lines.nth(widths.index(min(widths))).click()
    page.keyboard.press("Delete")
    expect(lines).to_have_count(count - 1)
    expect(page.locator("#tx-saved")).to_have_text("All changes saved", timeout=20_000)
    # Untyped regions, the drawn one among them, are kept with the page's lines.
    kept = page.request.get(f"{live_server}/api/pages/{row.id}/lines").json()["lines"]
    assert len(kept) == count - 1

    # Type into the drawn region, then merge it with the next region.
    before = regions.count()
    fields = page.locator("input.tx-text")
    fields.first.click()
    page.keyboard.type("En marge")
    expect(page.locator("#tx-saved")).to_have_text("All changes saved", timeout=20_000)
    drawn = page.locator(".tx-overlay .tx-line").first
    drawn.click()
    drawn.click()  # a second click on a selected line selects its region
    page.click("button[data-act='merge']")
    expect(regions).to_have_count(before - 1)
    expect(page.locator("#tx-saved")).to_have_text("All changes saved", timeout=20_000)
    screenshot(page, "transcribe-03-edited")
    segments = typed(session, row.id)
    assert len(segments) == 1 and segments[0].text.startswith("En marge\n")

    # Everything is there after a reload: the typed region holds the merged lines.
    page.reload()
    expect(page.locator(".tx-overlay .tx-region")).to_have_count(before - 1)
    expect(page.locator("input.tx-text").first).to_have_value("En marge")


@pytest.fixture(scope="module", autouse=True)
def vision_model(worker_ollama: FakeOllama) -> Iterator[str]:
    """The web app and worker of this module know a vision model (set before they start)."""
    os.environ["PALIMPSEST_VISION_MODEL"] = VISION
    if VISION not in worker_ollama.models:
        worker_ollama.models.append(VISION)
    yield VISION
    os.environ.pop("PALIMPSEST_VISION_MODEL", None)
    reset_caches()


def test_a_vision_models_proposals_are_taken_line_by_line_and_region_by_region(
    page: Page, live_server: str, session: Session
) -> None:
    row = handwritten_page(session, CANDIDE)
    page.goto(f"{live_server}/documents/{row.document_id}/pages/1/transcribe")
    fields = page.locator("input.tx-text")
    expect(fields.first).to_be_focused()
    page.keyboard.type("Typed by hand")  # typed text is never replaced by a proposal
    page.click("#tx-vision button[type=submit]")
    url = f"{live_server}/api/pages/{row.id}/proposals"

    def answered() -> bool:
        listed = page.request.get(url).json()
        return bool(listed) and all(p["status"] == "done" for p in listed)

    assert wait_until(answered, timeout=120), worker_log()
    # The editor shows them as they come, each under its line.
    expect(page.locator(".tx-row").nth(1).locator(".tx-proposal q")).to_contain_text(
        "Il y avoit en Westphalie la ligne 1", timeout=20_000
    )
    expect(page.locator(".tx-proposal")).to_have_count(page.locator(".tx-row").count())
    screenshot(page, "transcribe-04-proposals")
    assert fields.first.input_value() == "Typed by hand"

    # Line by line: Alt+P takes the line's proposal, and the line records which it took.
    page.keyboard.press("Enter")
    page.keyboard.press("Alt+P")
    taken = fields.nth(1).input_value()
    assert taken.startswith("Il y avoit en Westphalie la ligne 1")
    # Region by region: the proposals fill the empty lines only.
    third = page.locator("section.tx-group").nth(2)
    third.locator("button", has_text="Take the proposals into empty lines").click()
    expect(page.locator("#tx-saved")).to_have_text("All changes saved", timeout=20_000)
    segments = typed(session, row.id)
    assert segments[0].text == "Typed by hand"
    assert segments[1].text == taken and segments[1].lines[0]["proposal"]
    assert all(t.startswith("Il y avoit") for t in segments[2].text.split("\n"))


def test_the_editor_is_accessible_and_shows_hostile_text_as_text(
    browser: Browser, live_server: str, session: Session
) -> None:
    row = handwritten_page(session, CANDIDE)
    lines = [
        {"bbox": (300, 400 + 100 * i, 2400, 500 + 100 * i), "text": payload}
        for i, payload in enumerate(PAYLOADS[:12])
    ]
    with unit_of_work() as unit:
        from service.review.models import Author
        from service.transcription import service as transcription
        from service.transcription.schemas import ManualSegmentCreate

        body = ManualSegmentCreate(bbox=(300, 400, 2400, 1600), lines=lines, draft=True)
        transcription.create(unit, row.id, body, Author(None, PAYLOADS[4]))
        unit.add(
            TranscriptionProposal(
                document_id=row.document_id,
                page_id=row.id,
                unit=ProposalUnit.LINE,
                x0=300,
                y0=400,
                x1=2400,
                y1=500,
                lines=[{"bbox": [300, 400, 2400, 500], "text": PAYLOADS[1]}],
                status=ProposalStatus.DONE,
                text=PAYLOADS[1],
                backend="ollama",
                model=PAYLOADS[2],
                flags=[{"kind": PAYLOADS[3], "message": PAYLOADS[5]}],
            )
        )
    context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    context.add_init_script(RECORDER)
    page = context.new_page()
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    log_in(page, live_server)
    page.goto(f"{live_server}/documents/{row.document_id}/pages/1/transcribe")
    fields = page.locator("section.tx-group.typed input.tx-text")
    expect(fields.first).to_have_value(PAYLOADS[0])
    assert [fields.nth(i).input_value() for i in range(12)] == PAYLOADS[:12]
    expect(page.locator(".tx-proposal q").first).to_have_text(PAYLOADS[1])
    page.keyboard.press("Tab")
    page.mouse.move(400, 400)
    page.wait_for_timeout(300)
    assert ran(page) == [] and dialogs == []
    context.close()


def test_the_editor_has_no_accessibility_violations(
    page: Page, live_server: str, session: Session
) -> None:
    row = handwritten_page(session, CANDIDE)
    page.goto(f"{live_server}/documents/{row.document_id}/pages/1/transcribe")
    expect(page.locator("input.tx-text").first).to_be_focused()
    assert violations(page) == []
