"""Regions typed by hand: created, changed and deleted as MANUAL segments of a page.

A typed region keeps its lines (box and text each) for TEI `<lb/>` and PAGE/ALTO lines;
its text is the lines joined by newlines. Words read with doubt are `unclear` annotations
of the source. A region saved finished is translated by a run of its own (purpose
`transcription`); a draft is kept and exported but not translated. Typing on a page that
needed transcription (or whose OCR failed) makes it `transcribed`, and a finished
document's status is worked out again, so its header tells what was read, typed and
translated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.documents import outcome, positions
from service.documents import service as documents
from service.documents.models import Document, OcrStatus, Page, Segment, SegmentKind
from service.errors import EditConflict, InvalidInput
from service.review.models import (
    Annotation,
    AnnotationLayer,
    AnnotationType,
    Author,
    Edit,
    EditField,
)
from service.text import normalise, storable
from service.transcription import layout
from service.transcription.schemas import LineIn, ManualSegmentCreate, ManualSegmentUpdate
from service.translation import runs
from service.translation.models import RunPurpose, TranslationRun

BBox = tuple[int, int, int, int]
# Page states a person may type over: read (or not readable), and failed.
TYPABLE = (
    OcrStatus.DONE,
    OcrStatus.NEEDS_TRANSCRIPTION,
    OcrStatus.TRANSCRIBED,
    OcrStatus.FAILED,
)


@dataclass(frozen=True)
class Saved:
    """A typed region after a save, and the translation run it queued (if any)."""

    segment: Segment
    run: TranslationRun | None = None
    note: str | None = None


@dataclass(frozen=True)
class Typed:
    """A region's content as it will be stored: text, line JSON and unclear ranges."""

    text: str
    lines: list[dict[str, Any]]
    unclear: list[tuple[int, int]]


def create(session: Session, page_id: int, data: ManualSegmentCreate, author: Author) -> Saved:
    """Store a typed region on a page in reading order; queue its translation when finished."""
    page = _typable_page(session, page_id)
    typed = _typed(data.text, data.lines)
    _require_text(typed, data.draft)
    bbox = _within(page, _holding(data.bbox, typed.lines))
    segment = Segment(
        document_id=page.document_id,
        page_id=page.id,
        position=-1,  # placed in reading order below
        kind=SegmentKind.MANUAL,
        draft=data.draft,
        confidence=None,
        min_confidence=None,
    )
    _write(segment, bbox, typed)
    session.add(segment)
    session.flush()
    drop_unreadable_under(session, page.id, bbox)
    positions.place(session, page.id, segment)
    _replace_unclear(session, segment, typed.unclear, author)
    if not data.draft:
        _record(session, segment, "", segment.text, author)
    layout.forget_covered(page, bbox)
    return _after_change(session, page, segment, translate=not data.draft)


def update(session: Session, segment_id: int, data: ManualSegmentUpdate, author: Author) -> Saved:
    """Change a typed region's box, lines, text or draft state (what is sent)."""
    segment = get_manual_or_raise(session, segment_id, lock=True)
    if data.version is not None and data.version != segment.version:
        raise EditConflict(
            "The region was changed by someone else since you opened it.",
            segment.text,
            segment.version,
        )
    page = _typable_page(session, segment.page_id)
    before, was_draft = segment.text, segment.draft
    draft = segment.draft if data.draft is None else data.draft
    typed = _updated(segment, data)
    _require_text(typed, draft)
    bbox = _within(page, _holding(data.bbox or segment.bbox, typed.lines))
    moved = bbox != segment.bbox
    _write(segment, bbox, typed)
    segment.draft = draft
    segment.version += 1
    session.flush()
    if moved:
        drop_unreadable_under(session, page.id, bbox)
        positions.place(session, page.id, segment)
        layout.forget_covered(page, bbox)
    if data.lines is not None:
        _replace_unclear(session, segment, typed.unclear, author)
    if not draft and (segment.text != before or was_draft):
        _record(session, segment, "" if was_draft else before, segment.text, author)
    changed = segment.text != before or was_draft
    return _after_change(session, page, segment, translate=not draft and changed)


def delete_segment(session: Session, segment_id: int) -> Page:
    """Delete a typed region (with its translations and annotations)."""
    segment = get_manual_or_raise(session, segment_id, lock=True)
    page = documents.get_page_or_raise(session, segment.page_id)
    session.execute(delete(Segment).where(Segment.id == segment.id))
    session.expunge(segment)
    positions.renumber(session, page.id)
    refresh_page(session, page)
    outcome.settle_outcome(session, page.document)
    return page


def drop_unreadable_under(session: Session, page_id: int, bbox: BBox) -> None:
    """Remove what the OCR could not read inside a typed region: the region replaces it
    (an OCR run reads the page again from its image, so nothing is lost for good)."""
    for segment in session.scalars(
        select(Segment).where(Segment.page_id == page_id, Segment.kind == SegmentKind.UNREADABLE)
    ):
        if layout.inside(segment.bbox, bbox):
            session.delete(segment)
    session.flush()


def get_manual_or_raise(session: Session, segment_id: int, lock: bool = False) -> Segment:
    """A typed region, or an error saying why this segment cannot be changed here."""
    segment = documents.get_segment_or_raise(session, segment_id)
    if segment.kind is not SegmentKind.MANUAL:
        raise InvalidInput(
            f"Segment {segment_id} was read by OCR ({segment.kind.value}); correct its text on "
            "the review desk (PATCH /api/segments/{id}/source)."
        )
    if lock:
        session.refresh(segment, with_for_update=True)
    return segment


def _typable_page(session: Session, page_id: int) -> Page:
    page = documents.get_page_or_raise(session, page_id)
    if page.ocr_status not in TYPABLE or not page.width or not page.height:
        raise InvalidInput(
            f"Page {page.number} has not been read yet: its image and boxes are ready once "
            "the OCR stage has read it."
        )
    session.refresh(page, with_for_update=True)  # one writer a page: positions stay unique
    return page


def _typed(text: str | None, lines: Sequence[LineIn] | None) -> Typed:
    if lines is None:
        if text is None:
            raise InvalidInput("Send the region's `text`, its `lines`, or both.")
        lines = [LineIn(text=t) for t in storable(text).split("\n")]
    joined = "\n".join(storable(line.text) for line in lines)
    if text is not None and storable(text).rstrip() != joined.rstrip():
        raise InvalidInput(
            "`text` must be the lines' texts joined by newlines (or leave one of them out)."
        )
    return Typed(joined, [_line_json(line) for line in lines], _unclear(lines))


def _updated(segment: Segment, data: ManualSegmentUpdate) -> Typed:
    if data.lines is None and data.text is None:
        return Typed(segment.text, list(segment.lines or []), [])
    if data.lines is None and data.text is not None:
        kept = [LineIn(bbox=_box(line.get("bbox"))) for line in segment.lines or []]
        texts = storable(data.text).split("\n")
        lines = [
            LineIn(bbox=kept[i].bbox if i < len(kept) else None, text=t)
            for i, t in enumerate(texts)
        ]
        return _typed(None, lines)
    return _typed(data.text, data.lines)


def _line_json(line: LineIn) -> dict[str, Any]:
    for start, end in line.unclear:
        if not 0 <= start < end <= len(line.text):
            raise InvalidInput(
                f"The unclear range {start}–{end} lies outside the line {line.text[:40]!r}."
            )
    found: dict[str, Any] = {
        "bbox": list(line.bbox) if line.bbox else None,
        "text": storable(line.text),
        "words": [],
    }
    if line.proposal_id is not None:
        found["proposal"] = line.proposal_id
    return found


def _unclear(lines: Sequence[LineIn]) -> list[tuple[int, int]]:
    """Each line's unclear ranges as offsets in the region's text."""
    found: list[tuple[int, int]] = []
    offset = 0
    for line in lines:
        found += [(offset + start, offset + end) for start, end in sorted(set(line.unclear))]
        offset += len(storable(line.text)) + 1
    return found


def _require_text(typed: Typed, draft: bool) -> None:
    if not draft and not typed.text.strip():
        raise InvalidInput("A finished region needs text; save it as a draft until it has some.")


def _holding(bbox: BBox, lines: list[dict[str, Any]]) -> BBox:
    """The region's box grown to hold each of its lines."""
    boxes = [bbox, *(tuple(line["bbox"]) for line in lines if line.get("bbox"))]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _within(page: Page, bbox: BBox) -> BBox:
    width, height = page.width or 0, page.height or 0
    if bbox[0] >= width or bbox[1] >= height:
        raise InvalidInput(
            f"The box {list(bbox)} lies outside page {page.number} ({width} × {height} pixels)."
        )
    return (bbox[0], bbox[1], min(bbox[2], width), min(bbox[3], height))


def _write(segment: Segment, bbox: BBox, typed: Typed) -> None:
    segment.x0, segment.y0, segment.x1, segment.y1 = bbox
    segment.text = typed.text
    segment.normalized = storable(normalise(typed.text))
    segment.lines = typed.lines


def _box(value: Any) -> BBox | None:
    if isinstance(value, list | tuple) and len(value) == 4:
        return (int(value[0]), int(value[1]), int(value[2]), int(value[3]))
    return None


def _replace_unclear(
    session: Session, segment: Segment, ranges: list[tuple[int, int]], author: Author
) -> None:
    """The segment's unclear source annotations become exactly these ranges."""
    session.execute(
        delete(Annotation).where(
            Annotation.segment_id == segment.id,
            Annotation.layer == AnnotationLayer.SOURCE,
            Annotation.type == AnnotationType.UNCLEAR,
        )
    )
    for start, end in ranges:
        session.add(
            Annotation(
                segment_id=segment.id,
                layer=AnnotationLayer.SOURCE,
                start=start,
                end=end,
                type=AnnotationType.UNCLEAR,
                author=author.name,
                author_id=author.user_id,
            )
        )
    session.flush()


def unclear_by_line(session: Session, segments: Sequence[Segment]) -> dict[int, list[list[Any]]]:
    """Each typed segment's unclear ranges, line by line ([[start, end], …] per line)."""
    ids = [s.id for s in segments]
    rows = session.execute(
        select(Annotation.segment_id, Annotation.start, Annotation.end).where(
            Annotation.segment_id.in_(ids),
            Annotation.layer == AnnotationLayer.SOURCE,
            Annotation.type == AnnotationType.UNCLEAR,
        )
    ).all()
    found: dict[int, list[list[Any]]] = {}
    for segment in segments:
        found[segment.id] = _per_line(
            segment.text, [(s, e) for sid, s, e in rows if sid == segment.id]
        )
    return found


def _per_line(text: str, ranges: list[tuple[int, int]]) -> list[list[Any]]:
    starts, offset = [], 0
    for line in text.split("\n"):
        starts.append((offset, offset + len(line)))
        offset += len(line) + 1
    per_line: list[list[Any]] = [[] for _ in starts]
    for start, end in sorted(ranges):
        for i, (first, last) in enumerate(starts):
            if first <= start < last or (start == first and end <= last):
                per_line[i].append([start - first, min(end, last) - first])
                break
    return per_line


def _record(session: Session, segment: Segment, before: str, after: str, author: Author) -> None:
    session.add(
        Edit(
            document_id=segment.document_id,
            segment_id=segment.id,
            field=EditField.SOURCE,
            before=before,
            after=after,
            author=author.name,
            author_id=author.user_id,
        )
    )


def _after_change(session: Session, page: Page, segment: Segment, translate: bool) -> Saved:
    refresh_page(session, page)
    document = page.document
    outcome.settle_outcome(session, document)
    session.flush()
    if not translate:
        return Saved(segment)
    if not document.translate:
        return Saved(segment, note="This document is not translated (it was uploaded so).")
    return Saved(segment, queue_translation(session, document, [segment.id]))


def queue_translation(
    session: Session, document: Document, segment_ids: list[int]
) -> TranslationRun:
    """A run translating typed regions with the document's model (the caller enqueues it)."""
    request = runs.RunRequest(
        document.backend,
        document.model,
        segment_ids=segment_ids,
        purpose=RunPurpose.TRANSCRIPTION,
    )
    return runs.create(session, document, request)


def manual_counts(session: Session, page_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(finished, drafts) typed regions per page."""
    rows = session.execute(
        select(Segment.page_id, Segment.draft, func.count())
        .where(Segment.page_id.in_(list(page_ids)), Segment.kind == SegmentKind.MANUAL)
        .group_by(Segment.page_id, Segment.draft)
    )
    found: dict[int, tuple[int, int]] = {}
    for page_id, draft, n in rows:
        finished, drafts = found.get(page_id, (0, 0))
        found[page_id] = (finished, drafts + n) if draft else (finished + n, drafts)
    return found


def refresh_page(session: Session, page: Page) -> None:
    """A page that needed transcription is transcribed once it holds a finished typed
    region, and needs it again when it holds none."""
    finished, _ = manual_counts(session, [page.id]).get(page.id, (0, 0))
    if finished and page.ocr_status in (OcrStatus.NEEDS_TRANSCRIPTION, OcrStatus.FAILED):
        page.ocr_status = OcrStatus.TRANSCRIBED
    elif not finished and page.ocr_status is OcrStatus.TRANSCRIBED:
        page.ocr_status = OcrStatus.FAILED if page.ocr_error else OcrStatus.NEEDS_TRANSCRIPTION


def status_text(page: Page, finished: int, drafts: int) -> str:
    """What a page's status says to a person."""
    typed = f"{finished} segment{'s' if finished != 1 else ''}"
    more = f", {drafts} draft{'s' if drafts != 1 else ''}" if drafts else ""
    if page.ocr_status is OcrStatus.TRANSCRIBED:
        return f"transcribed by hand ({typed}{more})"
    if page.ocr_status is OcrStatus.NEEDS_TRANSCRIPTION:
        started = f" ({drafts} draft{'s' if drafts != 1 else ''} begun)" if drafts else ""
        return f"needs manual transcription{started}"
    if page.ocr_status is OcrStatus.FAILED:
        return f"OCR failed: {page.ocr_error or 'no reason given'}"
    if page.ocr_status is OcrStatus.PENDING:
        return "not read yet"
    if finished or drafts:
        return f"read by OCR, with {typed} typed by hand{more}"
    return "read by OCR"


def manual_ids(session: Session, page_id: int) -> list[int]:
    """Ids of a page's typed regions in reading order."""
    return list(
        session.scalars(
            select(Segment.id)
            .where(Segment.page_id == page_id, Segment.kind == SegmentKind.MANUAL)
            .order_by(Segment.position)
        )
    )
