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

from service.documents.models import Document, DocumentStatus, OcrStatus, Page
from service.jobs import pipeline
from service.jobs.runner import run_inline
from service.jobs.steps import Step, TaskName
from tests.conftest import SHARED_DATA
from tests.fakes.ollama_server import FakeOllama, fake_translation
from tests.helpers import authed_client
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
