"""Review data: edit history of segments and translations, and annotations on their text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

# The tables these rows refer to (`users`, `translations`), so that the models work in a
# process that has imported nothing else.
from service.accounts import models as _accounts  # noqa: F401
from service.db import Base, TimestampMixin, enum_column
from service.documents import models as _documents  # noqa: F401 - tables its foreign keys name
from service.translation import models as _translation  # noqa: F401


@dataclass(frozen=True)
class Author:
    """Who makes a change: their account, and the name the history shows (kept as it was
    then, so renaming or deleting the account leaves the record readable)."""

    user_id: int | None
    name: str


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
    author: Mapped[str | None] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )


class EditField(StrEnum):
    """What an edit changed."""

    SOURCE = "source"
    TRANSLATION = "translation"
    STATUS = "status"


class Edit(Base):
    """One change by a reviewer: before and after, who and when; undo applies it in reverse."""

    __tablename__ = "edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), index=True
    )
    translation_id: Mapped[int | None] = mapped_column(
        ForeignKey("translations.id", ondelete="CASCADE")
    )
    field: Mapped[EditField] = mapped_column(enum_column(EditField, "edit_field"))
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("edits.id", ondelete="SET NULL"))
    # The translation's status and flags before the change (`{"status", "flags"}`), which an
    # undo restores with the text: undoing an edit or approval brings the checks' doubts back.
    # None for source edits and for edits made before it was kept.
    translation_before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
