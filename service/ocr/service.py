"""Reading a page: render its image once, run the OCR engine, store its segments."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.documents import positions
from service.documents.files import BROWSER_IMAGES, MediaType, render_page
from service.documents.models import OCR_KINDS, Document, OcrStatus, Page, Segment, SegmentKind
from service.errors import OcrFailed, PermanentError
from service.imaging import encode_display, encode_png
from service.ocr.engines.base import Block, Line, OcrEngine, PageLayout
from service.ocr.languages import ModelChoice, ocr_models
from service.storage import Storage
from service.text import normalise, storable
from service.transcription.layout import store_detected

if TYPE_CHECKING:
    from service.ocr.reading import Reading

log = logging.getLogger(__name__)


def get_engine(timeout_s: int) -> OcrEngine:
    """Return the configured OCR engine (imported lazily: the web never loads it)."""
    from service.ocr.engines.tesseract import TesseractEngine

    return TesseractEngine(timeout_s=timeout_s)


def read_page(
    session: Session,
    page: Page,
    storage: Storage,
    engine: OcrEngine,
    settings: OcrSettings,
) -> None:
    """OCR one page and replace its segments; a permanent failure marks the page failed."""
    from service.ocr.reading import read_image

    try:
        choice = document_models(session, page.document, storage, engine, settings)
        image = load_page_image(page, storage, settings.dpi)
        reading = read_image(
            image, page.dpi, choice, engine, low_confidence=settings.low_confidence
        )
    except PermanentError as exc:
        mark_failed(page, exc.message)
        return
    _record_preparation(page, reading, storage)
    store_layout(session, page, reading.layout, settings.low_confidence)
    page.line_layout = None  # found again for the image just stored, when it is asked for
    if not reading.legibility.readable:
        mark_needs_transcription(session, page, reading.legibility.reason or "unreadable")
        from service.ocr.lines import find_lines  # numpy: never in the web process

        # The transcription editor opens on these lines (0.2–0.5 s a page).
        store_detected(session, page, find_lines(reading.prepared.image))


@dataclass(frozen=True)
class OcrSettings:
    """What a page read needs from the settings."""

    dpi: int = 300
    low_confidence: float = 60.0


def document_models(
    session: Session, document: Document, storage: Storage, engine: OcrEngine, settings: OcrSettings
) -> ModelChoice:
    """The document's models; `auto` and bare `de` are decided once, on the first page."""
    from service.ocr.reading import decide, prepare_for

    choice = ocr_models(document.source_lang)
    if not choice.undecided:
        return choice
    if document.ocr_models is None:
        # Pages are read in parallel: the first to get here decides for all of them.
        session.refresh(document, with_for_update=True)
    if document.ocr_models is None:
        first = document.pages[0]
        prepared = prepare_for(load_page_image(first, storage, settings.dpi), first.dpi, choice)
        decided = decide(prepared, choice, engine)
        document.ocr_models = f"{decided.script}:{decided.models}"
        session.flush()
    script, models = document.ocr_models.split(":", 1)
    return ModelChoice(models, script)


def _record_preparation(page: Page, reading: Reading, storage: Storage) -> None:
    prepared = reading.prepared
    page.preprocessing = json_safe(prepared.record)
    page.rotation = prepared.rotation
    page.script = reading.choice.script
    # Kept when preparing changed more than the colours (turned, deskewed, rescaled, filtered).
    # Otherwise the boxes fit the browser's copy of the scan, which is shown instead: on most
    # Antiqua pages that saves a PNG encoding and its storage per page.
    page.ocr_image_sha256 = (
        storage.put_bytes(encode_png(prepared.image)) if prepared.altered else None
    )
    # Boxes are in the coordinates of the image the OCR read (turned upright, rescaled):
    # the page's size is that image's size, so boxes and the displayed image always agree.
    page.width, page.height = prepared.image.size
    if page.dpi:
        page.dpi = prepared.dpi  # changed only when the page was rescaled


def json_safe(record: dict[str, Any]) -> dict[str, Any]:
    """The preprocessing record with plain string keys, as JSON stores it."""
    return {str(k): v for k, v in record.items()}


def mark_needs_transcription(session: Session, page: Page, reason: str) -> None:
    """Flag a page a person must transcribe; its text stays, marked unreadable. A page with
    finished typed regions stays transcribed: the OCR found nothing better."""
    log.info("page %s needs manual transcription: %s", page.id, reason)
    page.ocr_note = reason
    typed = False
    for segment in session.scalars(select(Segment).where(Segment.page_id == page.id)):
        if segment.kind is SegmentKind.MANUAL:
            typed = typed or not segment.draft
        else:
            segment.kind = SegmentKind.UNREADABLE
    page.ocr_status = OcrStatus.TRANSCRIBED if typed else OcrStatus.NEEDS_TRANSCRIPTION
    session.flush()


def mark_failed(page: Page, reason: str) -> None:
    """Record why a page could not be read."""
    log.warning("page %s failed OCR: %s", page.id, reason)
    page.ocr_status = OcrStatus.FAILED
    page.ocr_error = reason


def load_page_image(page: Page, storage: Storage, dpi: int) -> Image.Image:
    """The page rendered from the uploaded file, never from the browser's (lossy) copy;
    that copy is stored on first use."""
    source = page.file
    if source.sha256 is None or source.media_type is None:
        raise OcrFailed("The page's file was not stored.")
    with storage.local_file(source.sha256) as path:
        rendered = render_page(path, MediaType(source.media_type), page.file_index, dpi)
    if not page.image_sha256:
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
    return storage.put_bytes(encode_display(image))


def _is_upright(file_sha: str, storage: Storage) -> bool:
    with storage.local_file(file_sha) as path, Image.open(path) as original:
        return bool(original.getexif().get(0x0112, 1) == 1)


def store_layout(
    session: Session, page: Page, layout: PageLayout, low_confidence: float = 60.0
) -> None:
    """Replace the page's OCR segments with the blocks read, in reading order. Regions typed
    by hand are never replaced: they stay where reading order puts them, and a block the
    OCR read inside one of them is left out."""
    session.execute(delete(Segment).where(Segment.page_id == page.id, Segment.kind.in_(OCR_KINDS)))
    typed = list(
        session.scalars(
            select(Segment).where(Segment.page_id == page.id).order_by(Segment.position)
        )
    )
    positions.park(session, typed)
    boxes = [s.bbox for s in typed]
    blocks = [b for b in layout.blocks if b.words and not _inside_any(b.bbox, boxes)]
    for position, block in enumerate(blocks):
        session.add(_segment(page, position, block, low_confidence))
    session.flush()
    for segment in typed:
        positions.place(session, page.id, segment)
    words = [w for b in layout.blocks for w in b.words]
    page.low_confidence_words = sum(1 for w in words if w.confidence < low_confidence)
    page.ocr_status = OcrStatus.DONE
    page.ocr_error = None
    page.ocr_note = None
    page.ocr_engine = layout.engine
    page.ocr_languages = layout.languages
    page.mean_confidence = layout.mean_confidence
    session.flush()


def _inside_any(box: tuple[int, int, int, int], typed: list[tuple[int, int, int, int]]) -> bool:
    """Whether most of an OCR block lies inside a region typed by hand."""
    area = max(1, (box[2] - box[0]) * (box[3] - box[1]))
    for x0, y0, x1, y1 in typed:
        width = max(0, min(box[2], x1) - max(box[0], x0))
        height = max(0, min(box[3], y1) - max(box[1], y0))
        if width * height >= 0.5 * area:
            return True
    return False


def _segment(page: Page, position: int, block: Block, low_confidence: float) -> Segment:
    x0, y0, x1, y1 = block.bbox
    return Segment(
        kind=SegmentKind(block.kind),
        document_id=page.document_id,
        page_id=page.id,
        position=position,
        text=storable(block.text),
        normalized=storable(normalise(block.text)),
        x0=x0,
        y0=y0,
        x1=x1,
        y1=y1,
        lines=[_line_json(line, low_confidence) for line in block.lines],
        confidence=block.confidence,
        min_confidence=block.min_confidence,
    )


def _line_json(line: Line, low_confidence: float) -> dict[str, Any]:
    return {
        "bbox": list(line.bbox),
        "text": line.text,
        "words": [
            {
                "text": w.text,
                "bbox": list(w.bbox),
                "conf": round(w.confidence, 1),
                # Flagged for the review desk: the engine was unsure of this word.
                "low": w.confidence < low_confidence,
            }
            for w in line.words
        ],
    }
