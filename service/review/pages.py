"""What the review page shows for one page of a document, gathered in a few queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents import service as documents
from service.documents.models import PROSE_KINDS, Document, Page, Segment
from service.errors import PageNotFound, SegmentNotFound
from service.jobs.models import Job
from service.review import service
from service.review.live import PageState, page_state, row_state
from service.review.models import Annotation, AnnotationLayer
from service.review.render import (
    Run,
    annotation_marks,
    low_confidence_runs,
    normalised_low,
    runs,
    spans_marks,
)
from service.review.service import ReviewSegment, ShownTranslation
from service.translation.doubts import Doubt, standing
from service.translation.models import TranslationRun, TranslationStatus


class RowStatus(StrEnum):
    """Review state of a row, used for filtering."""

    UNTRANSLATED = "untranslated"
    TRANSLATING = "translating"
    MACHINE = "machine"
    NEEDS_CHECK = "needs_check"
    EDITED = "edited"
    APPROVED = "approved"
    FAILED = "failed"
    STALE = "stale"
    KEPT = "kept"  # page furniture (page numbers, running heads): kept, never translated

    @property
    def label(self) -> str:
        """How the filter names the status."""
        return _LABELS.get(self, self.value)


_LABELS = {
    RowStatus.UNTRANSLATED: "not translated yet",
    RowStatus.KEPT: "not for translation",
    RowStatus.NEEDS_CHECK: "needs check",
}


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
    normalised_marks: str  # low-confidence words in the normalised text, `start:end:conf,…`
    busy: bool = False  # a translation of it is on its way
    key: str = ""  # changes whenever the row would look different (see live.py)

    @property
    def prose(self) -> bool:
        """Translated text (not page furniture)."""
        return self.segment.kind in PROSE_KINDS


def row_status(segment: ReviewSegment, busy: bool = False) -> RowStatus:
    """Stale wins over the translation's own status: the source changed since. A row
    without translation is kept (page furniture), being translated, or not yet."""
    t = segment.translation
    if t is None:
        if segment.kind not in PROSE_KINDS:
            return RowStatus.KEPT
        return RowStatus.TRANSLATING if busy else RowStatus.UNTRANSLATED
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
    state: PageState

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


@dataclass(frozen=True)
class Progress:
    """What the document's progress panel shows, also read to tell rows being translated."""

    jobs: list[Job]
    runs: list[TranslationRun]

    @property
    def pair(self) -> tuple[list[Job], list[TranslationRun]]:
        """Jobs and runs, as live.page_state takes them."""
        return self.jobs, self.runs


def review_page(
    session: Session,
    document: Document,
    number: int,
    page_count: int,
    threshold: float,
    progress: Progress,
) -> ReviewPage:
    """Gather page `number` of a document for review (a few queries whatever the page or
    the book holds)."""
    page = documents.page_by_number(session, document.id, number)
    if page is None:
        if number == 1:
            raise PageNotFound("This document has no pages yet.")
        raise PageNotFound(f"Document {document.id} has no page {number}.")
    segments = service.page_segments(session, page.id)
    notes = _page_annotations(session, page.id)
    states = [row_state(s, notes.get(s.id, [])) for s in segments]
    state = page_state(session, document, page, page_count, progress.pair, states)
    rows = _rows(segments, notes, threshold, state)
    return ReviewPage(document, page, page_count, rows, state)


def review_row(
    session: Session, segment_id: int, threshold: float, progress: Progress
) -> tuple[Document, Row]:
    """One segment's row, re-rendered after a change."""
    found = documents.get_segment_or_raise(session, segment_id)
    document = documents.get_or_raise(session, found.document_id, with_pages=False)
    segment = service.get_review_segment(session, segment_id)
    if segment is None:  # deleted since the line above
        raise SegmentNotFound(f"Segment {segment_id} does not exist.")
    page = session.get(Page, found.page_id)
    notes = _annotations(session, segment_id)
    states = [row_state(segment, notes.get(segment_id, []))]
    state = page_state(session, document, page, 0, progress.pair, states)
    return document, _rows([segment], notes, threshold, state)[0]


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
    segments: list[ReviewSegment],
    notes: dict[int, list[Annotation]],
    threshold: float,
    state: PageState,
) -> list[Row]:
    return [_row(s, notes.get(s.id, []), threshold, state) for s in segments]


def _row(
    seg: ReviewSegment,
    notes: list[Annotation],
    threshold: float,
    state: PageState,
) -> Row:
    spans = seg.word_spans
    source = _source_runs(seg, notes, threshold, spans)
    tr = seg.translation
    shown = tr.text if tr is not None and tr.status is not TranslationStatus.FAILED else ""
    target = (
        runs(shown, annotation_marks(notes, AnnotationLayer.TRANSLATION)) if notes else [Run(shown)]
    )
    doubts = standing(tr.status, tr.flags) if tr is not None and tr.flags else []
    # Where both forms are the same text the page's script copies the diplomatic marks.
    same = seg.normalized == seg.text
    low = "" if same else normalised_low(seg.text, seg.normalized, spans, threshold)
    busy = seg.id in state.busy
    key = state.keys.get(seg.id, "")
    return Row(seg, tr, row_status(seg, busy), source, target, notes, doubts, low, busy, key)


def _source_runs(
    seg: ReviewSegment,
    notes: list[Annotation],
    threshold: float,
    spans: Sequence[Sequence[float]],
) -> list[Run]:
    if not notes and (quick := low_confidence_runs(seg.text, spans, threshold)):
        return quick
    low = spans_marks(spans, threshold)
    return runs(seg.text, [*low, *annotation_marks(notes, AnnotationLayer.SOURCE)])
