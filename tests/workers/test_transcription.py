"""Transcribing a handwritten page by hand: typed regions through the API, translated by
the pipeline, kept through OCR re-runs, and told truthfully on the document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents.models import Document, DocumentStatus, OcrStatus, Page, Segment, SegmentKind
from service.jobs import pipeline
from service.jobs.runner import run_inline
from service.jobs.steps import Step, TaskName
from tests.conftest import SHARED_DATA
from tests.fakes.ollama_server import FakeOllama, fake_translation
from tests.support.helpers import authed_client, encode, text_image
from tests.workers.test_pipeline import upload

CANDIDE = SHARED_DATA / "pages" / "fra-hand-c1758-candide-ms-p1"


def ground_truth(folder: Path) -> list[str]:
    return [line for line in (folder / "gt.txt").read_text().splitlines() if line.strip()]


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client()


def read_handwritten_page(session: Session) -> Page:
    scan = next(CANDIDE.glob("*.jpg")).read_bytes()
    document_id = upload([("candide-p1.jpg", scan)], title="Candide, manuscrit")
    run_inline(pipeline.default_context(), pipeline.start(document_id))
    return session.scalars(select(Page).where(Page.document_id == document_id)).one()


def translate_queued(run_id: int | None) -> None:
    assert run_id is not None
    run_inline(pipeline.default_context(), [Step(TaskName.PLAN_TRANSLATION_RUN, (run_id,))])


def test_typed_regions_of_a_handwritten_page_are_translated_and_the_page_is_transcribed(
    ollama: FakeOllama, session: Session, client: TestClient
) -> None:
    page = read_handwritten_page(session)
    assert page.ocr_status is OcrStatus.NEEDS_TRANSCRIPTION
    document = client.get(f"/api/documents/{page.document_id}").json()
    stages = {j["stage"]: j for j in document["jobs"]}
    # Nothing was read, so nothing was translated: the stage says so instead of "done".
    assert stages["translate"]["status"] == "skipped"
    assert "nothing to translate" in stages["translate"]["detail"]

    lines = client.get(f"/api/pages/{page.id}/lines").json()
    assert lines["status"] == "ready" and len(lines["lines"]) >= 15
    region = max(lines["regions"], key=lambda r: len(r["lines"]))
    typed = ground_truth(CANDIDE)[-len(region["lines"]) :]
    body: dict[str, Any] = {
        "bbox": region["bbox"],
        "lines": [
            {"bbox": line["bbox"], "text": text}
            for line, text in zip(region["lines"], typed, strict=False)
        ],
    }
    created = client.post(f"/api/pages/{page.id}/segments", json=body)
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["kind"] == "manual" and segment["translation_queued"]
    assert segment["text"] == "\n".join(typed[: len(region["lines"])])
    assert segment["page_status"] == "transcribed"
    assert segment["page_status_text"] == "transcribed by hand (1 segment)"
    translate_queued(segment["translation_run_id"])

    rows = client.get(f"/api/documents/{page.document_id}/segments?page=1").json()
    manual = [r for r in rows if r["kind"] == "manual"]
    assert len(manual) == 1
    assert manual[0]["translation"]["text"] == fake_translation(manual[0]["normalized"])
    session.expire_all()
    done = session.get(Document, page.document_id)
    assert done is not None and done.status is DocumentStatus.DONE and done.error is None
    # The region's detected lines are typed now: they are no longer offered.
    left = [line["bbox"] for line in client.get(f"/api/pages/{page.id}/lines").json()["lines"]]
    assert not any(line["bbox"] in left for line in region["lines"])
    assert len(left) < len(lines["lines"]) - len(region["lines"]) + 2


def read_again(page_id: int) -> None:
    """The OCR stage reads the page again (as after a retry or a new OCR version)."""
    from service.db import unit_of_work

    with unit_of_work() as session:
        page = session.get(Page, page_id)
        assert page is not None
        page.ocr_status = OcrStatus.PENDING
    run_inline(pipeline.default_context(), [Step(TaskName.OCR_PAGE, (page_id,))])


def test_an_ocr_run_never_replaces_what_was_typed(
    ollama: FakeOllama, session: Session, client: TestClient
) -> None:
    page = read_handwritten_page(session)
    region = max(
        client.get(f"/api/pages/{page.id}/lines").json()["regions"],
        key=lambda r: r["bbox"][3] - r["bbox"][1],
    )
    body = {"bbox": region["bbox"], "text": "Il y avoit en Westphalie"}
    typed = client.post(f"/api/pages/{page.id}/segments", json=body).json()
    read_again(page.id)

    session.expire_all()
    segments = session.scalars(
        select(Segment).where(Segment.page_id == page.id).order_by(Segment.position)
    ).all()
    [manual] = [s for s in segments if s.kind is SegmentKind.MANUAL]
    assert manual.id == typed["id"] and manual.text == "Il y avoit en Westphalie"
    assert [s.position for s in segments] == list(range(len(segments)))
    # What the OCR could not read inside the typed region is not brought back.
    inside = [s for s in segments if s.kind is SegmentKind.UNREADABLE and inside_box(s, region)]
    assert inside == []
    refreshed = session.get(Page, page.id)
    assert refreshed is not None and refreshed.ocr_status is OcrStatus.TRANSCRIBED


def inside_box(segment: Segment, region: dict[str, Any]) -> bool:
    x0, y0, x1, y1 = (int(v) for v in region["bbox"])
    w = max(0, min(segment.x1, x1) - max(segment.x0, x0))
    h = max(0, min(segment.y1, y1) - max(segment.y0, y0))
    return w * h >= 0.5 * (segment.x1 - segment.x0) * (segment.y1 - segment.y0)


def test_a_note_typed_beside_printed_text_stays_through_an_ocr_run_in_reading_order(
    ollama: FakeOllama, session: Session, client: TestClient
) -> None:
    printed = text_image([["The council of the town met on", "the first day of May."]] * 3)
    document_id = upload(
        [("minutes.png", encode(printed, "PNG"))], source_lang="en", target_lang="fr"
    )
    run_inline(pipeline.default_context(), pipeline.start(document_id))
    page = session.scalars(select(Page).where(Page.document_id == document_id)).one()
    assert page.ocr_status is OcrStatus.DONE and page.height is not None
    # A handwritten note at the foot of the page, which the OCR did not read.
    note = {"bbox": [150, page.height - 120, 900, page.height - 60], "text": "Vu et approuvé"}
    typed = client.post(f"/api/pages/{page.id}/segments", json=note).json()
    assert typed["page_status"] == "done"
    assert typed["page_status_text"] == "read by OCR, with 1 segment typed by hand"
    read_again(page.id)
    session.expire_all()
    segments = session.scalars(
        select(Segment).where(Segment.page_id == page.id).order_by(Segment.position)
    ).all()
    assert [s.kind for s in segments][-1] is SegmentKind.MANUAL  # last in reading order
    assert sum(s.kind is SegmentKind.PARAGRAPH for s in segments) >= 1
    assert segments[-1].id == typed["id"]


def test_on_a_printed_page_the_lines_are_found_when_asked_and_exclude_what_ocr_read(
    ollama: FakeOllama, session: Session, client: TestClient
) -> None:
    printed = text_image([["The council of the town met on", "the first day of May."]] * 2)
    document_id = upload(
        [("minutes.png", encode(printed, "PNG"))], source_lang="en", target_lang="fr"
    )
    run_inline(pipeline.default_context(), pipeline.start(document_id))
    page = session.scalars(select(Page).where(Page.document_id == document_id)).one()
    asked = client.get(f"/api/pages/{page.id}/lines")
    assert asked.status_code == 202 and asked.json()["status"] == "detecting"
    run_inline(pipeline.default_context(), [Step(TaskName.DETECT_LINES, (page.id,))])
    found = client.get(f"/api/pages/{page.id}/lines")
    assert found.status_code == 200 and found.json()["method"] == "projection-profile"
    # Every printed line lies in a segment the OCR read: none is offered for typing.
    assert found.json()["lines"] == []
    editor = client.get(f"/documents/{document_id}/pages/1/transcribe")
    assert editor.status_code == 200 and 'id="tx-state"' in editor.text
