"""Translations: one per segment per backend and model, with provenance."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TimestampMixin
from service.documents.models import enum_column


class TranslationStatus(StrEnum):
    """Review state of a translation; `failed` carries the reason in `error`."""

    MACHINE = "machine"
    EDITED = "edited"
    APPROVED = "approved"
    FAILED = "failed"


class Translation(TimestampMixin, Base):
    """A segment's translation by one model, keyed by (segment, backend, model)."""

    __tablename__ = "translations"
    __table_args__ = (
        UniqueConstraint("segment_id", "backend", "model"),
        Index("ix_translations_search_vector", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    backend: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[TranslationStatus] = mapped_column(
        enum_column(TranslationStatus, "translation_status")
    )
    source_hash: Mapped[str] = mapped_column(String(64))
    tokens_in: Mapped[int | None] = mapped_column(Integer)
    tokens_out: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    # Maintained by a database trigger in the target language's text-search configuration.
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR, deferred=True)
