"""`/documents/{id}/live`: what an open document page needs to follow the work in place."""

from __future__ import annotations

import re

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from service.documents.models import DocumentStatus, OcrStatus, Page, Segment
from service.jobs.models import Job, JobStage, JobStatus
from service.text import source_hash
from service.translation.models import Translation, TranslationStatus
from tests.support.helpers import authed_client, make_document, segment_ids


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client()


def row_keys(html: str) -> dict[int, str]:
    found = re.findall(r'id="seg-(\d+)"[^>]*?data-row-key="(\w+)"', html, re.S)
    return {int(seg): key for seg, key in found}


def token_of(html: str) -> str:
    found = re.search(r'id="page-view" data-live-url="[^"]+" data-token="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_nothing_is_sent_again_until_something_on_the_page_changes(
    client: TestClient, session: Session
) -> None:
    document = make_document(session, ["Le roy est mort.", "Vive le roy !"], ["The king.", None])
    first, second = segment_ids(session, document.id)
    token = token_of(client.get(f"/documents/{document.id}").text)
    url = f"/documents/{document.id}/live?page=1&token={token}"

    quiet = client.get(url).json()
    assert quiet["token"] == token and quiet["final"] is True
    assert "rows" not in quiet and "view" not in quiet
    assert 'class="progress"' in quiet["progress"]

    # A translation arrives for the second row: the rows come back, its key changed.
    keys_before = row_keys(client.get(f"/documents/{document.id}").text)
    session.add(
        Translation(
            segment_id=second,
            document_id=document.id,
            backend="ollama",
            model="llama3.2:3b",
            text="Long live the king!",
            status=TranslationStatus.MACHINE,
            source_hash=source_hash("Vive le roy !"),
        )
    )
    session.commit()
    changed = client.get(url).json()
    assert changed["token"] != token and "view" not in changed
    keys = row_keys(changed["rows"])
    assert keys[first] == keys_before[first] and keys[second] != keys_before[second]
    assert keys == row_keys(client.get(f"/documents/{document.id}").text)  # as a reload shows
    assert "Long live the king!" in changed["rows"]
    again = client.get(f"/documents/{document.id}/live?page=1&token={changed['token']}").json()
    assert "rows" not in again


def test_a_page_read_while_the_document_is_open_replaces_the_placeholder(
    client: TestClient, session: Session
) -> None:
    document = make_document(session, ["Le roy est mort."], ["The king is dead."])
    # As if the page were still being read: no segments, OCR pending, translation to come.
    segment = session.get(Segment, segment_ids(session, document.id)[0])
    assert segment is not None
    page_id = segment.page_id
    session.delete(segment)
    session.execute(update(Page).values(ocr_status=OcrStatus.PENDING))
    document.status = DocumentStatus.PROCESSING
    session.execute(
        update(Job)
        .where(Job.document_id == document.id, Job.stage == JobStage.TRANSLATE)
        .values(status=JobStatus.PENDING)
    )
    session.commit()
    html = client.get(f"/documents/{document.id}").text
    assert "This page has not been read yet." in html
    token = token_of(html)

    # The page is read: its segment comes in; the answer is the whole view, rows and all.
    session.execute(update(Page).where(Page.id == page_id).values(ocr_status=OcrStatus.DONE))
    session.add(
        Segment(
            document_id=document.id,
            page_id=page_id,
            position=0,
            text="Vive le roy !",
            normalized="Vive le roy !",
            x0=10,
            y0=10,
            x1=900,
            y1=50,
            lines=[],
        )
    )
    session.commit()
    answer = client.get(f"/documents/{document.id}/live?page=1&token={token}").json()
    assert "rows" not in answer and answer["final"] is False
    assert "Vive le roy !" in answer["view"] and 'class="review"' in answer["view"]
    assert "translating…" in answer["view"]  # the document's translation is still to come
    assert 'data-status="translating"' in answer["view"]
