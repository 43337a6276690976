"""The OCR stage through the pipeline: every input format, bad pages, unreadable pages."""

from __future__ import annotations

import io

import pytest
import redis
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents.models import Document, DocumentStatus, OcrStatus, Page, Segment, SegmentKind
from service.jobs import pipeline
from service.jobs.runner import run_inline
from service.translation.models import Translation
from tests.fakes.ollama_server import FakeOllama
from tests.support.helpers import authed_client, encode, text_image
from tests.workers.test_pipeline import upload


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client()


ENGLISH = [["The council of the town met on", "the first day of the month of May."]]


def scan() -> Image.Image:
    return text_image(ENGLISH)


def one_bit_tiff() -> bytes:
    return encode(scan().convert("1"), "TIFF", compression="group4", dpi=(300, 300))


def cmyk_jpeg_on_its_side() -> bytes:
    # Stored sideways with EXIF orientation 6 ("turn 90° clockwise to view"), in CMYK.
    sideways = scan().rotate(90, expand=True).convert("CMYK")
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(sideways, "JPEG", quality=92, exif=exif.tobytes(), dpi=(300, 300))


def multi_page_tiff() -> bytes:
    first, second = scan(), text_image([["A second page speaks of the bridge", "and the mill."]])
    buffer = io.BytesIO()
    first.save(buffer, format="TIFF", save_all=True, append_images=[second], dpi=(300, 300))
    return buffer.getvalue()


def pdf() -> bytes:
    return encode(scan().convert("RGB"), "PDF", resolution=300.0)


def corrupt_png() -> bytes:
    return encode(scan(), "PNG")[:400]


def test_every_input_format_is_read_and_a_corrupt_image_fails_alone(session: Session) -> None:
    document_id = upload(
        [
            ("bilevel.tif", one_bit_tiff()),
            ("cmyk.jpg", cmyk_jpeg_on_its_side()),
            ("two-pages.tif", multi_page_tiff()),
            ("page.pdf", pdf()),
            ("broken.png", corrupt_png()),
        ],
        source_lang="en",
        target_lang="fr",
        translate=False,
    )
    run_inline(pipeline.default_context(), pipeline.start(document_id))

    pages = session.scalars(
        select(Page).where(Page.document_id == document_id).order_by(Page.number)
    ).all()
    assert [p.ocr_status for p in pages] == [OcrStatus.DONE] * 5 + [OcrStatus.FAILED]
    texts = [
        " ".join(
            s.normalized for s in session.scalars(select(Segment).where(Segment.page_id == p.id))
        )
        for p in pages[:5]
    ]
    assert "bridge" in texts[3]
    assert all("council of the town" in t for i, t in enumerate(texts) if i != 3), texts
    # EXIF orientation honoured: the sideways JPEG is shown as the scan was made.
    assert (pages[1].width, pages[1].height) == scan().size
    assert "cannot be decoded" in (pages[5].ocr_error or "")
    document = session.get(Document, document_id)
    assert document is not None and document.status is DocumentStatus.PARTIAL
    assert "page 6" in (document.error or "")
    # What was done to each page is recorded. These pages were only made grey: their boxes
    # fit the scan as it is, and no second image is kept (a Fraktur page keeps one, below).
    assert pages[0].preprocessing is not None and "rescale" in pages[0].preprocessing
    assert pages[0].image_sha256 and pages[0].ocr_image_sha256 is None


def noise_png() -> bytes:
    return encode(Image.effect_noise((1600, 2200), 90).convert("L"), "PNG")


def test_an_unreadable_page_is_flagged_kept_and_not_translated(
    ollama: FakeOllama, session: Session, client: TestClient
) -> None:
    document_id = upload(
        [("good.png", encode(scan(), "PNG")), ("noise.png", noise_png())],
        source_lang="en",
        target_lang="fr",
    )
    run_inline(pipeline.default_context(), pipeline.start(document_id))

    document = session.get(Document, document_id)
    assert document is not None and document.status is DocumentStatus.PARTIAL
    assert "needs manual transcription" in (document.error or "")
    good, noise = session.scalars(
        select(Page).where(Page.document_id == document_id).order_by(Page.number)
    ).all()
    assert good.ocr_status is OcrStatus.DONE
    assert noise.ocr_status is OcrStatus.NEEDS_TRANSCRIPTION
    translated = {t.segment_id for t in session.scalars(select(Translation))}
    for segment in session.scalars(select(Segment).where(Segment.page_id == noise.id)):
        assert segment.kind is SegmentKind.UNREADABLE
        assert segment.id not in translated
    assert translated  # the readable page was translated

    body = client.get(f"/api/documents/{document_id}").json()
    flags = [
        (p["number"], p["needs_transcription"], p["ocr_note"] is not None) for p in body["pages"]
    ]
    assert flags == [(1, False, False), (2, True, True)]
    assert body["pages"][0]["ocr_image_url"]
    segments = client.get(f"/api/documents/{document_id}/segments?page=1").json()
    assert segments[0]["kind"] == "paragraph"
    words = [w for line in segments[0]["lines"] for w in line["words"]]
    assert words and all("low" in w and "conf" in w for w in words)
    assert client.get(body["pages"][0]["ocr_image_url"]).status_code == 200
    page = client.get(f"/documents/{document_id}?page=2").text  # the review page shows one page
    assert "Page 2 needs manual transcription" in page


def test_a_page_is_read_from_the_uploaded_scan_not_from_the_browsers_lossy_copy(
    session: Session,
) -> None:
    import numpy as np

    from service.ocr.preprocess import default_steps, prepare

    # A colour TIFF: the browser gets a JPEG of it. `de` makes the first page's task compare
    # Fraktur and Antiqua on page 1 first, which stores that JPEG before page 1 is read.
    colour = Image.merge("RGB", [scan(), scan().point(lambda v: v * 0.9), scan()])
    tiff = encode(colour, "TIFF", dpi=(300, 300))
    document_id = upload([("p1.tif", tiff), ("p2.tif", tiff)], source_lang="de", translate=False)
    run_inline(pipeline.default_context(), pipeline.start(document_id))

    first = session.scalars(
        select(Page).where(Page.document_id == document_id, Page.number == 1)
    ).one()
    assert first.ocr_status is OcrStatus.DONE and first.image_sha256 and first.ocr_image_sha256
    storage = pipeline.default_context().storage
    with storage.local_file(first.image_sha256) as path, Image.open(path) as shown:
        assert shown.format == "JPEG"
    with storage.local_file(first.ocr_image_sha256) as path, Image.open(path) as as_read:
        # The image the OCR read was prepared from the scan's own pixels, not the JPEG's.
        expected = prepare(colour, 300, default_steps(first.script or "")).image
        assert np.array_equal(np.asarray(as_read.convert("L")), np.asarray(expected))
