"""What the review page shows for one page of a document, gathered in a few queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents import service as documents
from service.documents.models import Document, Page, Segment
from service.errors import PageNotFound
from service.review.models import Annotation, AnnotationLayer
from service.review.render import Run, annotation_marks, low_confidence_marks, runs, spans_marks
from service.translation.models import Translation, TranslationStatus


class RowStatus(StrEnum):
    """Review state of a row, used for filtering."""

    UNTRANSLATED = "untranslated"
    MACHINE = "machine"
    EDITED = "edited"
    APPROVED = "approved"
    FAILED = "failed"
    STALE = "stale"


@dataclass
class Row:
    """One segment as the review page shows it."""

    item: documents.AlignedSegment
    source_runs: list[Run]
    translation_runs: list[Run]
    annotations: list[Annotation] = field(default_factory=list)
    low_confidence: bool = False

    @property
    def translation(self) -> Translation | None:
        """The segment's current translation."""
        return self.item.translation

    @cached_property
    def status(self) -> RowStatus:
        """Stale wins over the translation's own status: the source changed since."""
        t = self.item.translation
        if t is None:
            return RowStatus.UNTRANSLATED
        if self.item.stale:
            return RowStatus.STALE
        return RowStatus(t.status.value)


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
    items = documents.page_segments_for_review(session, page)
    notes = _page_annotations(session, page.id)
    # Rows written before word spans existed (or in bulk) still need their word boxes.
    lines = documents.segment_lines(
        session, [i.segment.id for i in items if i.segment.word_spans is None]
    )
    rows = [
        _row(item, notes.get(item.segment.id, []), threshold, lines.get(item.segment.id))
        for item in items
    ]
    return ReviewPage(document, page, page_count, rows)


def _page_annotations(session: Session, page_id: int) -> dict[int, list[Annotation]]:
    query = select(Annotation).join(Segment).where(Segment.page_id == page_id)
    return _by_segment(session.scalars(query.order_by(Annotation.start)))


def _annotations(session: Session, segment_ids: list[int]) -> dict[int, list[Annotation]]:
    if not segment_ids:
        return {}
    query = select(Annotation).where(Annotation.segment_id.in_(segment_ids))
    return _by_segment(session.scalars(query.order_by(Annotation.start)))


def _by_segment(annotations: Iterable[Annotation]) -> dict[int, list[Annotation]]:
    found: dict[int, list[Annotation]] = {}
    for a in annotations:
        found.setdefault(a.segment_id, []).append(a)
    return found


def _row(
    item: documents.AlignedSegment,
    notes: list[Annotation],
    threshold: float,
    lines: list[dict[str, Any]] | None = None,
) -> Row:
    seg, tr = item.segment, item.translation
    if seg.word_spans is not None:
        low = spans_marks(seg.word_spans, threshold)
    else:
        low = low_confidence_marks(seg.text, seg.lines if lines is None else lines, threshold)
    source = runs(seg.text, [*low, *annotation_marks(notes, AnnotationLayer.SOURCE)])
    shown = tr.text if tr is not None and tr.status is not TranslationStatus.FAILED else ""
    target = runs(shown, annotation_marks(notes, AnnotationLayer.TRANSLATION))
    return Row(item, source, target, notes, bool(low))


def review_row(session: Session, segment_id: int, threshold: float) -> tuple[Document, Row]:
    """One segment's row, re-rendered after a change."""
    segment = documents.get_segment_or_raise(session, segment_id)
    document = documents.get_or_raise(session, segment.document_id, with_pages=False)
    item = documents.aligned_segment(session, segment)
    notes = _annotations(session, [segment_id])
    return document, _row(item, notes.get(segment_id, []), threshold)
