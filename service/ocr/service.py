"""Reading a page: render its image once, run the OCR engine, store its segments."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import delete
from sqlalchemy.orm import Session

from service.documents.files import BROWSER_IMAGES, MediaType, encode_png, render_page
from service.documents.models import OcrStatus, Page, Segment
from service.errors import OcrFailed, PermanentError
from service.ocr.engines.base import Block, OcrEngine, PageLayout
from service.ocr.languages import tesseract_languages
from service.ocr.text import normalise, storable
from service.storage import Storage

log = logging.getLogger(__name__)


def get_engine(timeout_s: int) -> OcrEngine:
    """Return the configured OCR engine (imported lazily: the web never loads it)."""
    from service.ocr.engines.tesseract import TesseractEngine

    return TesseractEngine(timeout_s=timeout_s)


def read_page(session: Session, page: Page, storage: Storage, engine: OcrEngine, dpi: int) -> None:
    """OCR one page and replace its segments; a permanent failure marks the page failed."""
    try:
        image = load_page_image(page, storage, dpi)
        layout = engine.recognize(image, tesseract_languages(page.document.source_lang))
    except PermanentError as exc:
        mark_failed(page, exc.message)
        return
    store_layout(session, page, layout)


def mark_failed(page: Page, reason: str) -> None:
    """Record why a page could not be read."""
    log.warning("page %s failed OCR: %s", page.id, reason)
    page.ocr_status = OcrStatus.FAILED
    page.ocr_error = reason


def load_page_image(page: Page, storage: Storage, dpi: int) -> Image.Image:
    """Return the page image, rendering and storing it on first use."""
    if page.image_sha256:
        with Image.open(storage.path(page.image_sha256)) as stored:
            stored.load()
            return stored
    source = page.file
    if source.sha256 is None or source.media_type is None:
        raise OcrFailed("The page's file was not stored.")
    rendered = render_page(
        storage.path(source.sha256), MediaType(source.media_type), page.file_index, dpi
    )
    page.image_sha256 = _store_display_image(
        source.sha256, source.media_type, source.page_count, rendered.image, storage
    )
    page.width, page.height = rendered.image.size
    page.dpi = rendered.dpi
    return rendered.image


def _store_display_image(
    file_sha: str, media_type: str, page_count: int | None, image: Image.Image, storage: Storage
) -> str:
    """Reuse a single-page PNG/JPEG as it is; anything else is stored as PNG."""
    if (
        MediaType(media_type) in BROWSER_IMAGES
        and page_count == 1
        and _is_upright(file_sha, storage)
    ):
        return file_sha
    return storage.put_bytes(encode_png(image))


def _is_upright(file_sha: str, storage: Storage) -> bool:
    with Image.open(storage.path(file_sha)) as original:
        return bool(original.getexif().get(0x0112, 1) == 1)


def store_layout(session: Session, page: Page, layout: PageLayout) -> None:
    """Replace the page's segments with the blocks read, in reading order."""
    session.execute(delete(Segment).where(Segment.page_id == page.id))
    for position, block in enumerate(b for b in layout.blocks if b.words):
        session.add(_segment(page, position, block))
    page.ocr_status = OcrStatus.DONE
    page.ocr_error = None
    page.ocr_engine = layout.engine
    page.ocr_languages = layout.languages
    page.mean_confidence = layout.mean_confidence
    session.flush()


def _segment(page: Page, position: int, block: Block) -> Segment:
    x0, y0, x1, y1 = block.bbox
    return Segment(
        document_id=page.document_id,
        page_id=page.id,
        position=position,
        text=storable(block.text),
        normalized=storable(normalise(block.text)),
        x0=x0,
        y0=y0,
        x1=x1,
        y1=y1,
        lines=[_line_json(line) for line in block.lines],
        confidence=block.confidence,
        min_confidence=block.min_confidence,
    )


def _line_json(line: Any) -> dict[str, Any]:
    return {
        "bbox": list(line.bbox),
        "text": line.text,
        "words": [
            {"text": w.text, "bbox": list(w.bbox), "conf": round(w.confidence, 1)}
            for w in line.words
        ],
    }


def page_source_path(page: Page, storage: Storage) -> Path | None:
    """Path of the stored page image, if rendered."""
    return storage.path(page.image_sha256) if page.image_sha256 else None
