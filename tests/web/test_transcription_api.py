"""The typed-regions API: what it accepts, what it refuses and why, and what it changes
on the page, the document, the desk and the exports."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents.models import Document, DocumentStatus, Page, Segment, SegmentKind
from service.review.models import Annotation, AnnotationType
from service.translation.models import RunPurpose, TranslationRun
from tests.conftest import SHARED_DATA
from tests.support.helpers import authed_client, handwritten_page, make_document

CANDIDE = SHARED_DATA / "pages" / "fra-hand-c1758-candide-ms-p4"
BOX = [300, 500, 2400, 700]
LINES = [
    {"bbox": [300, 500, 2400, 600], "text": "Le Baron étoit un des plus puiſſans"},
    {"bbox": [300, 600, 2400, 700], "text": "Seigneurs de la Westphalie", "unclear": [[16, 26]]},
]


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client()


def post(client: TestClient, page_id: int, **body: Any) -> Any:
    return client.post(f"/api/pages/{page_id}/segments", json={"bbox": BOX} | body)


def test_a_region_is_stored_with_its_lines_unclear_words_and_queued_translation(
    session: Session, client: TestClient
) -> None:
    page = handwritten_page(session, CANDIDE)
    response = post(client, page.id, lines=LINES)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["text"] == "Le Baron étoit un des plus puiſſans\nSeigneurs de la Westphalie"
    assert body["normalized"] == "Le Baron étoit un des plus puissans Seigneurs de la Westphalie"
    assert body["lines"][1]["unclear"] == [[16, 26]] and body["draft"] is False
    run = session.get(TranslationRun, body["translation_run_id"])
    assert run is not None and run.purpose is RunPurpose.TRANSCRIPTION
    assert run.segment_ids == [body["id"]]
    # The unclear word is an annotation of the source, where the exports find it.
    [note] = session.scalars(select(Annotation)).all()
    assert note.type is AnnotationType.UNCLEAR and (note.start, note.end) == (52, 62)
    assert body["text"][note.start : note.end] == "Westphalie"


def test_text_alone_is_enough_and_a_draft_is_not_translated(
    session: Session, client: TestClient
) -> None:
    page = handwritten_page(session, CANDIDE)
    body = post(client, page.id, text="une ligne\nune autre", draft=True).json()
    assert [line["bbox"] for line in body["lines"]] == [None, None]
    assert body["translation_queued"] is False and body["page_status"] == "needs_transcription"
    assert body["page_status_text"] == "needs manual transcription (1 draft begun)"
    finished = client.patch(f"/api/segments/{body['id']}", json={"draft": False}).json()
    assert finished["translation_queued"] and finished["page_status"] == "transcribed"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"bbox": [10, 10, 5, 50], "text": "x"}, "left < right"),
        ({"bbox": BOX}, "Send the region's `text`"),
        ({"bbox": BOX, "text": "   "}, "A finished region needs text"),
        ({"bbox": BOX, "text": "a\nb", "lines": [{"text": "a"}, {"text": "c"}]}, "joined"),
        ({"bbox": BOX, "lines": [{"text": "a\nb"}]}, "no line break"),
        ({"bbox": BOX, "lines": [{"text": "abc", "unclear": [[1, 9]]}]}, "outside the line"),
        ({"bbox": [90000, 10, 90010, 50], "text": "x"}, "outside page 1"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(
    session: Session, client: TestClient, body: dict[str, Any], message: str
) -> None:
    page = handwritten_page(session, CANDIDE)
    response = client.post(f"/api/pages/{page.id}/segments", json=body)
    assert response.status_code == 422
    assert message in response.text
    assert session.scalars(select(Segment).where(Segment.kind == SegmentKind.MANUAL)).all() == []


def test_a_page_not_read_yet_and_an_ocr_segment_are_refused_with_the_way_forward(
    session: Session, client: TestClient
) -> None:
    document = make_document(session, ["Texte imprimé, lu par l'OCR."])
    [segment] = session.scalars(select(Segment)).all()
    response = client.patch(f"/api/segments/{segment.id}", json={"text": "autre"})
    assert response.status_code == 422 and "/source" in response.json()["message"]
    page = session.scalars(select(Page).where(Page.document_id == document.id)).one()
    page.width = None
    session.commit()
    refused = client.post(f"/api/pages/{page.id}/segments", json={"bbox": BOX, "text": "x"})
    assert refused.status_code == 422 and "not been read yet" in refused.json()["message"]
    editor = client.get(f"/documents/{document.id}/pages/1/transcribe").text
    assert "has not been read yet" in editor and "tx-state" not in editor


def test_a_stale_version_is_a_conflict_and_keeps_the_other_text(
    session: Session, client: TestClient
) -> None:
    page = handwritten_page(session, CANDIDE)
    created = post(client, page.id, text="premier").json()
    ok = client.patch(f"/api/segments/{created['id']}", json={"text": "second", "version": 1})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    late = client.patch(f"/api/segments/{created['id']}", json={"text": "tiers", "version": 1})
    assert late.status_code == 409
    assert late.json()["current_text"] == "second" and late.json()["current_version"] == 2


def test_deleting_the_last_region_makes_the_page_need_transcription_again(
    session: Session, client: TestClient
) -> None:
    page = handwritten_page(session, CANDIDE)
    created = post(client, page.id, lines=LINES).json()
    session.expire_all()
    document = session.get(Document, page.document_id)
    assert document is not None and document.status is DocumentStatus.DONE
    assert client.delete(f"/api/segments/{created['id']}").status_code == 204
    session.expire_all()
    document = session.get(Document, page.document_id)
    assert document is not None and document.status is DocumentStatus.PARTIAL
    assert "needs manual transcription" in (document.error or "")
    assert client.delete(f"/api/segments/{created['id']}").status_code == 404


def test_regions_are_placed_in_reading_order_and_typed_text_edited_on_the_desk_keeps_lines(
    session: Session, client: TestClient
) -> None:
    page = handwritten_page(session, CANDIDE)
    lower = post(client, page.id, text="plus bas", bbox=[300, 2000, 2400, 2100]).json()
    upper = post(client, page.id, text="en haut", bbox=[300, 200, 2400, 300]).json()
    session.expire_all()
    order = session.scalars(
        select(Segment.id).where(Segment.page_id == page.id).order_by(Segment.position)
    ).all()
    assert list(order) == [upper["id"], lower["id"]]
    # Corrected on the review desk: its lines follow the text, boxes kept line by line.
    two = post(client, page.id, lines=LINES).json()
    edited = client.patch(
        f"/api/segments/{two['id']}/source", json={"text": "Le Baron\nSeigneurs\nde la Westphalie"}
    )
    assert edited.status_code == 200
    session.expire_all()
    segment = session.get(Segment, two["id"])
    assert segment is not None
    assert [line["text"] for line in segment.lines] == ["Le Baron", "Seigneurs", "de la Westphalie"]
    assert [line["bbox"] for line in segment.lines] == [LINES[0]["bbox"], LINES[1]["bbox"], None]


def test_the_exports_hold_the_typed_lines_and_stay_valid(
    session: Session,
    client: TestClient,
    tei_schema: Any,
    page_schema: Any,
    alto_schema: Any,
) -> None:
    page = handwritten_page(session, CANDIDE)
    # A page left unreadable by the OCR exports valid PAGE and ALTO too.
    session.add(
        Segment(
            document_id=page.document_id,
            page_id=page.id,
            position=0,
            kind=SegmentKind.UNREADABLE,
            text="~ .,, ll",
            normalized="~ .,, ll",
            x0=2500,
            y0=3000,
            x1=2600,
            y1=3100,
            lines=[],
        )
    )
    session.commit()
    post(client, page.id, lines=LINES)
    tei = etree.fromstring(
        client.get(f"/api/documents/{page.document_id}/export?format=tei").content
    )
    assert tei_schema.validate(tei), tei_schema.error_log
    ns = {"t": "http://www.tei-c.org/ns/1.0"}
    unclear = tei.findall(".//t:div[@type='transcription']//t:unclear", ns)
    assert [u.xpath("string()") for u in unclear] == ["Westphalie"]
    assert tei.findall(".//t:div[@type='transcription']//t:lb", ns)
    page_zip = client.get(f"/api/documents/{page.document_id}/export?format=page").content
    with zipfile.ZipFile(io.BytesIO(page_zip)) as archive:
        xml = etree.fromstring(archive.read("page/0001.xml"))
    assert page_schema.validate(xml), page_schema.error_log
    lines = [
        line for line in xml.iterfind(".//{*}TextLine") if line.find("{*}TextEquiv") is not None
    ]
    diplomatic = [line.findtext("{*}TextEquiv/{*}Unicode") for line in lines]
    assert diplomatic[: len(LINES)] == [line["text"] for line in LINES]
    alto = etree.fromstring(
        client.get(f"/api/documents/{page.document_id}/export?format=alto").content
    )
    assert alto_schema.validate(alto), alto_schema.error_log
