"""What an export reads of a book, as plain column rows rather than ORM entities: a
book is read many segments at a time, up to three times over for TEI, and building
entities cost more than the queries."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import null, select
from sqlalchemy.orm import Session

from service.documents.models import Page, Segment, SegmentKind
from service.review.models import Edit, EditField
from service.translation.models import Translation, TranslationStatus
from service.translation.shown import latest_shown


class SegmentRow(NamedTuple):
    """What an export reads of a segment."""

    id: int
    page_id: int
    x0: int
    y0: int
    x1: int
    y1: int
    text: str
    normalized: str
    confidence: float | None
    kind: SegmentKind
    position: int
    min_confidence: float | None
    lines: list[dict[str, Any]] | None = None  # None: not read
    word_spans: list[list[float]] | None = None

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """Bounding box as (left, top, right, bottom) in page pixels."""
        return (self.x0, self.y0, self.x1, self.y1)


# Read only when a pass asks for them (the last two fields); None stands in otherwise.
_OPTIONAL = ("lines", "word_spans")
_ROW_COLUMNS = [getattr(Segment, name) for name in SegmentRow._fields if name not in _OPTIONAL]


def segment_rows(
    session: Session, page_ids: list[int], *, lines: bool, spans: bool
) -> list[SegmentRow]:
    """The pages' segments in order, with word boxes and word spans only when asked."""
    columns = [
        *_ROW_COLUMNS,
        Segment.lines if lines else null(),
        Segment.word_spans if spans else null(),
    ]
    query = select(*columns).where(Segment.page_id.in_(page_ids))
    rows = session.execute(query.order_by(Segment.page_id, Segment.position))
    return [SegmentRow(*row) for row in rows]


class TranslationRow(NamedTuple):
    """What an export reads of a segment's shown translation (plain columns)."""

    segment_id: int
    status: TranslationStatus
    text: str
    backend: str
    model: str
    flags: list[dict[str, Any]]


_TRANSLATION_COLUMNS = [getattr(Translation, name) for name in TranslationRow._fields]


def shown_translations(session: Session, segment_ids: list[int]) -> dict[int, TranslationRow]:
    """The translation each segment shows (comparisons aside), by segment id."""
    if not segment_ids:
        return {}
    query = select(*_TRANSLATION_COLUMNS).where(Translation.segment_id.in_(segment_ids))
    return {row.segment_id: TranslationRow(*row) for row in session.execute(latest_shown(query))}


def typed_pages(session: Session, document_id: int) -> list[int]:
    """Numbers of the pages holding regions typed by hand."""
    numbers = session.scalars(
        select(Page.number)
        .join(Segment, Segment.page_id == Page.id)
        .where(Page.document_id == document_id, Segment.kind == SegmentKind.MANUAL)
        .distinct()
        .order_by(Page.number)
    )
    return list(numbers)


def transcribers(session: Session, document_id: int) -> list[str]:
    """Who typed regions of the document, by the names its history keeps."""
    names = session.scalars(
        select(Edit.author)
        .join(Segment, Segment.id == Edit.segment_id)
        .where(
            Edit.document_id == document_id,
            Edit.field == EditField.SOURCE,
            Segment.kind == SegmentKind.MANUAL,
        )
        .distinct()
        .order_by(Edit.author)
    )
    return list(names)
