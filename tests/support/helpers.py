"""Test helpers: images with known text, documents built straight in the database."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from service.documents.models import (
    Document,
    DocumentStatus,
    FileStatus,
    OcrStatus,
    Page,
    Segment,
    SegmentKind,
    SourceFile,
)
from service.jobs import service as jobs
from service.ocr.lines import find_lines
from service.review.models import Annotation, AnnotationLayer, AnnotationType
from service.storage import get_storage
from service.text import normalise, source_hash
from service.transcription.layout import store_detected
from service.translation.models import Translation, TranslationStatus

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


def text_image(paragraphs: list[list[str]], width: int = 2000, size: int = 42) -> Image.Image:
    """A white page at ~300 DPI with black paragraphs of the given lines."""
    font = ImageFont.truetype(str(FONT), size)
    line_height = int(size * 1.5)
    height = 200 + sum(len(p) * line_height + line_height for p in paragraphs)
    image = Image.new("L", (width, max(height, 600)), 255)
    draw = ImageDraw.Draw(image)
    y = 120
    for paragraph in paragraphs:
        for line in paragraph:
            draw.text((150, y), line, font=font, fill=0)
            y += line_height
        y += line_height
    return image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """Encode an image in a format (PNG, JPEG, TIFF, PDF)."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def make_document(
    session: Session,
    segments: list[str],
    translations: list[str | None] | None = None,
    *,
    source_lang: str = "fr",
    target_lang: str = "en",
    pages: int = 1,
    title: str = "Test document",
    status: TranslationStatus = TranslationStatus.MACHINE,
    statuses: list[TranslationStatus] | None = None,
    kinds: list[SegmentKind] | None = None,
    low_words: frozenset[str] = frozenset(),
    image_sha256: str | None = None,
) -> Document:
    """A processed document with the given segment texts spread over pages, committed."""
    document = Document(
        title=title,
        source_lang=source_lang,
        target_lang=target_lang,
        status=DocumentStatus.DONE,
        backend="ollama",
        model="llama3.2:3b",
    )
    session.add(document)
    session.flush()
    jobs.create_for_document(session, document.id, translate=True)
    source = SourceFile(
        document_id=document.id,
        position=0,
        filename="scan.png",
        size=1,
        sha256="0" * 64,
        media_type="image/png",
        page_count=pages,
        status=FileStatus.INGESTED,
    )
    session.add(source)
    session.flush()
    page_rows = [
        Page(
            document_id=document.id,
            file_id=source.id,
            number=n + 1,
            file_index=n,
            width=1000,
            height=1500,
            dpi=300,
            ocr_status=OcrStatus.DONE,
            ocr_engine="tesseract 5.3.0",
            ocr_languages="fra",
            mean_confidence=90.0,
            image_sha256=image_sha256,
        )
        for n in range(pages)
    ]
    session.add_all(page_rows)
    session.flush()
    for i, text in enumerate(segments):
        page = page_rows[i % pages]
        segment = Segment(
            document_id=document.id,
            page_id=page.id,
            position=i,
            text=text,
            normalized=normalise(text),
            x0=10,
            y0=10 + 50 * i,
            x1=900,
            y1=50 + 50 * i,
            lines=[
                _line(t, 10 + 50 * i + 20 * n, low_words) for n, t in enumerate(text.split("\n"))
            ],
            confidence=88.5,
            kind=(kinds or [SegmentKind.PARAGRAPH] * len(segments))[i],
        )
        session.add(segment)
        session.flush()
        translated = (translations or [None] * len(segments))[i]
        if translated is not None:
            session.add(
                Translation(
                    segment_id=segment.id,
                    document_id=document.id,
                    backend="ollama",
                    model="llama3.2:3b",
                    text=translated,
                    status=(statuses or [status] * len(segments))[i],
                    source_hash=source_hash(segment.normalized),
                )
            )
    session.commit()
    return document


def _line(text: str, top: int, low_words: frozenset[str]) -> dict[str, object]:
    """A line's JSON as OCR stores it: words boxed left to right, 20 px apart per character."""
    words, x = [], 10
    for word in text.split():
        right = x + 20 * len(word)
        conf = 30.0 if word in low_words else 91.0
        words.append({"text": word, "bbox": [x, top, right, top + 18], "conf": conf})
        x = right + 20
    return {"bbox": [10, top, max(x, 30), top + 18], "text": text, "words": words}


def annotate(
    session: Session,
    segment_id: int,
    start: int,
    end: int,
    kind: AnnotationType,
    body: str | None = None,
    layer: AnnotationLayer = AnnotationLayer.SOURCE,
) -> Annotation:
    """Tag a character range of a segment's source (diplomatic) or translation text, committed."""
    annotation = Annotation(
        segment_id=segment_id, layer=layer, start=start, end=end, type=kind, body=body
    )
    session.add(annotation)
    session.commit()
    return annotation


def segment_ids(session: Session, document_id: int) -> list[int]:
    """Ids of a document's segments in reading order."""
    from sqlalchemy import select

    return list(
        session.scalars(
            select(Segment.id)
            .join(Page, Page.id == Segment.page_id)
            .where(Segment.document_id == document_id)
            .order_by(Page.number, Segment.position)
        )
    )


def authed_client(
    role: str = "admin", username: str | None = None, collections: tuple[int, ...] = ()
) -> TestClient:
    """An HTTP client logged in as a new user of the role (and member of the collections).

    It sends our own Origin, as a browser on our pages does, so state-changing requests
    pass the CSRF check.
    """
    from service.accounts import service as accounts
    from service.accounts.middleware import SESSION_COOKIE
    from service.accounts.models import Role
    from service.db import unit_of_work
    from service.main import create_app

    name = username or f"{role}-{next(_users)}"
    with unit_of_work() as session:
        user = accounts.create_user(session, name, "correct horse battery", Role(role))
        if collections:
            accounts.set_memberships(session, user.id, list(collections))
        token = accounts.start_session(session, user)
    client = TestClient(create_app(), headers={"origin": "http://testserver"})
    client.cookies.set(SESSION_COOKIE, token)
    return client


_users = itertools.count(1)


def translate_now(document_id: int) -> None:
    """Translate a document in this process, through the pipeline's own plan and steps."""
    from service.jobs import pipeline
    from service.jobs.runner import run_inline
    from service.jobs.steps import Step, TaskName

    run_inline(
        pipeline.default_context(),
        [Step(TaskName.PLAN_TRANSLATION, (document_id,))],
        max_retries=0,
    )


def flag(session: Session, segment_id: int, *flags: tuple[str, str]) -> None:
    """Store checks' doubts (kind, message) on a segment's translation, as the pipeline does
    when a check still flags an answer after its retry: status `needs_check`, committed."""
    from sqlalchemy import select

    translation = session.scalars(
        select(Translation).where(Translation.segment_id == segment_id)
    ).one()
    translation.status = TranslationStatus.NEEDS_CHECK
    translation.flags = [{"kind": kind, "message": message} for kind, message in flags]
    session.commit()


def handwritten_page(session: Session, folder: Path) -> Page:
    """A document whose one page the OCR flagged, as the pipeline leaves it (lines found)."""
    scan = next(folder.glob("*.jpg"))
    sha = get_storage().put_bytes(scan.read_bytes())
    document = Document(
        title="Candide, manuscrit",
        source_lang="fr",
        target_lang="en",
        status=DocumentStatus.PARTIAL,
        backend="ollama",
        model="llama3.2:3b",
        error="page 1: needs manual transcription: mean word confidence 31",
    )
    session.add(document)
    session.flush()
    jobs.create_for_document(session, document.id, translate=True)
    source = SourceFile(
        document_id=document.id,
        position=0,
        filename=scan.name,
        size=scan.stat().st_size,
        sha256=sha,
        media_type="image/jpeg",
        page_count=1,
        status=FileStatus.INGESTED,
    )
    session.add(source)
    session.flush()
    with Image.open(scan) as image:
        width, height = image.size
        found = find_lines(image)
    page = Page(
        document_id=document.id,
        file_id=source.id,
        number=1,
        file_index=0,
        width=width,
        height=height,
        image_sha256=sha,
        ocr_status=OcrStatus.NEEDS_TRANSCRIPTION,
        ocr_note="needs manual transcription: mean word confidence 31",
    )
    session.add(page)
    session.flush()
    store_detected(session, page, found)
    session.commit()
    return page
