"""What the review page shows for one page of a document, gathered in a few queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents import service as documents
from service.documents.models import Document, Page, Segment
from service.errors import PageNotFound, SegmentNotFound
from service.review import service
from service.review.models import Annotation, AnnotationLayer
from service.review.render import (
    Run,
    annotation_marks,
    low_confidence_marks,
    low_confidence_runs,
    runs,
    spans_marks,
)
from service.review.service import ReviewSegment, ShownTranslation
from service.translation.doubts import Doubt, standing
from service.translation.models import TranslationStatus


class RowStatus(StrEnum):
    """Review state of a row, used for filtering."""

    UNTRANSLATED = "untranslated"
    MACHINE = "machine"
    NEEDS_CHECK = "needs_check"
    EDITED = "edited"
    APPROVED = "approved"
    FAILED = "failed"
    STALE = "stale"

    @property
    def label(self) -> str:
        """The status in words, as its badge and filter show it ("needs check")."""
        return self.value.replace("_", " ")


@dataclass(slots=True)
class Row:
    """One segment as the review page shows it."""

    segment: ReviewSegment
    translation: ShownTranslation | None
    status: RowStatus
    source_runs: list[Run]
    translation_runs: list[Run]
    annotations: list[Annotation]
    # The checks' doubts about the shown translation that no reviewer has answered yet.
    doubts: list[Doubt]


def row_status(segment: ReviewSegment) -> RowStatus:
    """Stale wins over the translation's own status: the source changed since."""
    t = segment.translation
    if t is None:
        return RowStatus.UNTRANSLATED
    if segment.stale:
        return RowStatus.STALE
    return RowStatus(t.status.value)


@dataclass(frozen=True, slots=True)
class Box:
    """A segment's outline on the scan: CSS position and size in percent of the page."""

    segment_id: int
    number: int
    status: RowStatus
    style: str


@dataclass
class ReviewPage:
    """A document page: its image, neighbours, and rows in reading order."""

    document: Document
    page: Page
    page_count: int
    rows: list[Row]

    @cached_property
    def counts(self) -> dict[str, int]:
        """How many rows have each status, for the filter buttons."""
        counts = {s.value: 0 for s in RowStatus}
        for row in self.rows:
            counts[row.status.value] += 1
        return counts

    @cached_property
    def boxes(self) -> list[Box]:
        """Each row's outline on the scan (the page has its size once it is read)."""
        width, height = self.page.width, self.page.height
        if not width or not height:
            return []
        return [_box(row, width, height) for row in self.rows]


def _box(row: Row, width: int, height: int) -> Box:
    s = row.segment
    style = (
        f"left: {100 * s.x0 / width:.3f}%; top: {100 * s.y0 / height:.3f}%; "
        f"width: {100 * (s.x1 - s.x0) / width:.3f}%; height: {100 * (s.y1 - s.y0) / height:.3f}%"
    )
    return Box(s.id, s.position + 1, row.status, style)


def review_page(
    session: Session, document: Document, number: int, page_count: int, threshold: float
) -> ReviewPage:
    """Gather page `number` of a document for review (a few queries whatever the page or
    the book holds)."""
    page = documents.page_by_number(session, document.id, number)
    if page is None:
        if number == 1:
            raise PageNotFound("This document has no pages yet.")
        raise PageNotFound(f"Document {document.id} has no page {number}.")
    segments = service.page_segments(session, page.id)
    rows = _rows(session, segments, _page_annotations(session, page.id), threshold)
    return ReviewPage(document, page, page_count, rows)


def review_row(session: Session, segment_id: int, threshold: float) -> tuple[Document, Row]:
    """One segment's row, re-rendered after a change."""
    found = documents.get_segment_or_raise(session, segment_id)
    document = documents.get_or_raise(session, found.document_id, with_pages=False)
    segment = service.get_review_segment(session, segment_id)
    if segment is None:  # deleted since the line above
        raise SegmentNotFound(f"Segment {segment_id} does not exist.")
    return document, _rows(session, [segment], _annotations(session, segment_id), threshold)[0]


def _page_annotations(session: Session, page_id: int) -> dict[int, list[Annotation]]:
    query = select(Annotation).join(Segment).where(Segment.page_id == page_id)
    return _by_segment(session.scalars(query.order_by(Annotation.start)))


def _annotations(session: Session, segment_id: int) -> dict[int, list[Annotation]]:
    query = select(Annotation).where(Annotation.segment_id == segment_id)
    return _by_segment(session.scalars(query.order_by(Annotation.start)))


def _by_segment(annotations: Iterable[Annotation]) -> dict[int, list[Annotation]]:
    found: dict[int, list[Annotation]] = {}
    for a in annotations:
        found.setdefault(a.segment_id, []).append(a)
    return found


def _rows(
    session: Session,
    segments: list[ReviewSegment],
    notes: dict[int, list[Annotation]],
    threshold: float,
) -> list[Row]:
    # Rows written before word spans existed (or in bulk) still need their word boxes.
    lines = documents.segment_lines(session, [s.id for s in segments if s.word_spans is None])
    return [_row(s, notes.get(s.id, []), threshold, lines.get(s.id, [])) for s in segments]


def _row(
    seg: ReviewSegment, notes: list[Annotation], threshold: float, lines: list[dict[str, Any]]
) -> Row:
    source = _source_runs(seg, notes, threshold, lines)
    tr = seg.translation
    shown = tr.text if tr is not None and tr.status is not TranslationStatus.FAILED else ""
    target = (
        runs(shown, annotation_marks(notes, AnnotationLayer.TRANSLATION)) if notes else [Run(shown)]
    )
    doubts = standing(tr.status, tr.flags) if tr is not None and tr.flags else []
    return Row(seg, tr, row_status(seg), source, target, notes, doubts)


def _source_runs(
    seg: ReviewSegment, notes: list[Annotation], threshold: float, lines: list[dict[str, Any]]
) -> list[Run]:
    if seg.word_spans is None:
        low = low_confidence_marks(seg.text, lines, threshold)
    elif not notes and (quick := low_confidence_runs(seg.text, seg.word_spans, threshold)):
        return quick
    else:
        low = spans_marks(seg.word_spans, threshold)
    return runs(seg.text, [*low, *annotation_marks(notes, AnnotationLayer.SOURCE)])
