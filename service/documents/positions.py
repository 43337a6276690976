"""Segment positions on a page: reading order kept, the unique (page, position) respected."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents.models import Segment
from service.ocr.reading_order import reading_order

BBox = tuple[int, int, int, int]


def place(session: Session, page_id: int, segment: Segment) -> None:
    """Put a segment where reading order puts its box among the page's other segments,
    which keep their order."""
    others = [
        s
        for s in session.scalars(
            select(Segment).where(Segment.page_id == page_id).order_by(Segment.position)
        )
        if s.id != segment.id and s.position >= 0
    ]
    at = insertion_index([s.bbox for s in others], segment.bbox)
    number(session, [*others[:at], segment, *others[at:]])


def insertion_index(boxes: list[BBox], box: BBox) -> int:
    """Where a box goes among boxes in reading order: right after the one the XY cut of
    them all puts before it (the others keep their order, whatever the cut says of them)."""
    order = reading_order([*boxes, box])
    k = order.index(len(boxes))
    return order[k - 1] + 1 if k else 0


def renumber(session: Session, page_id: int) -> None:
    """Close the gaps a deleted segment left (positions 0, 1, 2… again)."""
    ordered = list(
        session.scalars(
            select(Segment).where(Segment.page_id == page_id).order_by(Segment.position)
        )
    )
    number(session, ordered)


def number(session: Session, ordered: list[Segment]) -> None:
    """Positions 0… in the given order; moved rows step through negative values first, so
    the unique (page, position) holds after every row's update."""
    moved = [(i, s) for i, s in enumerate(ordered) if s.position != i]
    for _, segment in moved:
        segment.position = -1 - segment.id
    session.flush()
    for i, segment in moved:
        segment.position = i
    session.flush()


def park(session: Session, segments: list[Segment]) -> None:
    """Move segments out of the way (negative positions) before others take theirs."""
    for segment in segments:
        segment.position = -1 - segment.id
    session.flush()
