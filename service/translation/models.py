"""Translations with their provenance, translation runs, glossaries, memory and OCR corrections."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import (
    text as sql,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TimestampMixin, enum_column
from service.documents import models as _documents  # noqa: F401 - tables its foreign keys name


class TranslationStatus(StrEnum):
    """Review state of a translation; `failed` carries the reason in `error`, and
    `needs_check` is a machine translation that a check still flagged after its retry (the
    reasons are in `flags`)."""

    MACHINE = "machine"
    NEEDS_CHECK = "needs_check"
    EDITED = "edited"
    APPROVED = "approved"
    FAILED = "failed"


class Provenance:
    """Where a machine text came from: model, prompt, cost, and what it took to get it."""

    model_digest: Mapped[str | None] = mapped_column(String(128))
    host: Mapped[str | None] = mapped_column(String(255))
    prompt_version: Mapped[str | None] = mapped_column(String(32))
    tokens_in: Mapped[int | None] = mapped_column(Integer)
    tokens_out: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    generation_ms: Mapped[float | None] = mapped_column(Float)
    tokens_per_s: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=sql("0"))
    fallbacks: Mapped[list[str]] = mapped_column(
        JSONB, default=list, server_default=sql("'[]'::jsonb")
    )
    flags: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=sql("'[]'::jsonb")
    )
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("translation_runs.id", ondelete="SET NULL"), index=True
    )


class Translation(Provenance, TimestampMixin, Base):
    """A segment's translation by one model, keyed by (segment, backend, model)."""

    __tablename__ = "translations"
    __table_args__ = (
        UniqueConstraint("segment_id", "backend", "model"),
        Index("ix_translations_search_vector", "search_vector", postgresql_using="gin"),
        # The dashboard and the document page count these on every view: few rows, found fast.
        Index(
            "ix_translations_needs_check",
            "document_id",
            postgresql_where=sql("status = 'needs_check'"),
        ),
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
    error: Mapped[str | None] = mapped_column(Text)
    memory_id: Mapped[int | None] = mapped_column(
        ForeignKey("translation_memory.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    # Maintained by a database trigger in the target language's text-search configuration.
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR, deferred=True)


class RunKind(StrEnum):
    """What a run produces: translations, or an OCR post-correction layer."""

    TRANSLATE = "translate"
    CORRECT = "correct"


class RunPurpose(StrEnum):
    """Why a run exists; the document's own run drives its TRANSLATE job."""

    DOCUMENT = "document"
    RETRANSLATE = "retranslate"
    COMPARE = "compare"
    # A region typed by hand (or its change), translated as soon as it is saved finished.
    TRANSCRIPTION = "transcription"


class RunStatus(StrEnum):
    """Life of a run."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    """Outcome of one segment in one run."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class TranslationRun(TimestampMixin, Base):
    """One model over a set of segments of a document, with its own progress."""

    __tablename__ = "translation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RunKind] = mapped_column(enum_column(RunKind, "run_kind"))
    purpose: Mapped[RunPurpose] = mapped_column(enum_column(RunPurpose, "run_purpose"))
    status: Mapped[RunStatus] = mapped_column(
        enum_column(RunStatus, "run_status"), default=RunStatus.PENDING
    )
    requested_backend: Mapped[str | None] = mapped_column(String(32))
    requested_model: Mapped[str | None] = mapped_column(String(1024))
    backend: Mapped[str | None] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(255))
    model_ref: Mapped[str | None] = mapped_column(String(1024))
    model_digest: Mapped[str | None] = mapped_column(String(128))
    prompt_version: Mapped[str | None] = mapped_column(String(32))
    # `sentence` where the model is asked one sentence at a time (small models), else `segment`.
    unit: Mapped[str | None] = mapped_column(String(16))
    budget: Mapped[int | None] = mapped_column(Integer)
    force: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A correction run that shows the model each segment's image beside its OCR text.
    with_images: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    page_from: Mapped[int | None] = mapped_column(Integer)
    page_to: Mapped[int | None] = mapped_column(Integer)
    segment_ids: Mapped[list[int] | None] = mapped_column(JSONB)
    total: Mapped[int] = mapped_column(Integer, default=0, server_default=sql("0"))
    done: Mapped[int] = mapped_column(Integer, default=0, server_default=sql("0"))
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default=sql("0"))
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default=sql("0"))
    error: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    # Why the run is held up (its model server unreachable or overloaded); it resumes by itself.
    waiting: Mapped[str | None] = mapped_column(Text)
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RunItem(Base):
    """A segment of a run, its batch and its outcome; the run's progress is counted here."""

    __tablename__ = "translation_run_items"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("translation_runs.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    batch: Mapped[int] = mapped_column(Integer)
    status: Mapped[ItemStatus] = mapped_column(
        enum_column(ItemStatus, "run_item_status"), default=ItemStatus.PENDING
    )
    note: Mapped[str | None] = mapped_column(Text)


class GlossaryEntry(TimestampMixin, Base):
    """An agreed rendering of a term for every document of a collection."""

    __tablename__ = "glossary_entries"
    __table_args__ = (UniqueConstraint("collection_id", "term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    term: Mapped[str] = mapped_column(String(200))
    translation: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class MemoryEntry(Base):
    """A machine translation reusable for an identical request (same model, prompt, context)."""

    __tablename__ = "translation_memory"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[RunKind] = mapped_column(enum_column(RunKind, "run_kind"))
    backend: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(255))
    model_digest: Mapped[str | None] = mapped_column(String(128))
    prompt_version: Mapped[str] = mapped_column(String(32))
    source_lang: Mapped[str] = mapped_column(String(35))
    target_lang: Mapped[str] = mapped_column(String(35))
    source_text: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # Derived from a document's text: deleting the document deletes its memory entries.
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    hits: Mapped[int] = mapped_column(Integer, default=0, server_default=sql("0"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=sql("now()")
    )


class Correction(Provenance, TimestampMixin, Base):
    """A model's proposed OCR correction of a segment: a layer beside the diplomatic text."""

    __tablename__ = "segment_corrections"
    __table_args__ = (UniqueConstraint("segment_id", "backend", "model"),)

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
    failed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    source_hash: Mapped[str] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
