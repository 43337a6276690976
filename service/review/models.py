"""Annotations on a segment's source or translation text."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TimestampMixin
from service.documents.models import enum_column


class AnnotationLayer(StrEnum):
    """Which text of the segment a range refers to."""

    SOURCE = "source"
    TRANSLATION = "translation"


class AnnotationType(StrEnum):
    """What a tagged span is."""

    PERSON = "person"
    PLACE = "place"
    DATE = "date"
    ORGANISATION = "organisation"
    TERM = "term"
    UNCLEAR = "unclear"
    NOTE = "note"


class Annotation(TimestampMixin, Base):
    """A tagged character range [start, end) in one layer of a segment."""

    __tablename__ = "annotations"
    __table_args__ = (CheckConstraint('start >= 0 AND "end" > start', name="range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), index=True
    )
    layer: Mapped[AnnotationLayer] = mapped_column(enum_column(AnnotationLayer, "annotation_layer"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    type: Mapped[AnnotationType] = mapped_column(enum_column(AnnotationType, "annotation_type"))
    body: Mapped[str | None] = mapped_column(Text)
