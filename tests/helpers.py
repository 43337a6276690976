"""Test helpers: images with known text, documents built straight in the database."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from service.documents.models import (
    Document,
    DocumentStatus,
    FileStatus,
    OcrStatus,
    Page,
    Segment,
    SourceFile,
)
from service.jobs import service as jobs
from service.ocr.text import normalise, source_hash
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
            mean_confidence=90.0,
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
            lines=[{"bbox": [10, 10, 900, 50], "text": t, "words": []} for t in text.split("\n")],
            confidence=88.5,
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
                    status=TranslationStatus.MACHINE,
                    source_hash=source_hash(segment.normalized),
                )
            )
    session.commit()
    return document
