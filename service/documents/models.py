"""Documents, their uploaded files, pages and OCR segments."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
)
from sqlalchemy.dialects.postgresql import JSON, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, TimestampMixin, enum_column
from service.documents import spans


class DocumentStatus(StrEnum):
    """Where a document is in the pipeline."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    PARTIAL = "partial"
    FAILED = "failed"


class FileStatus(StrEnum):
    """What happened to one uploaded file."""

    REMOTE = "remote"  # a IIIF image still to be fetched (source_url)
    ACCEPTED = "accepted"
    INGESTED = "ingested"
    FAILED = "failed"


class OcrStatus(StrEnum):
    """OCR state of one page."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    # Read, but too unreliably to use (handwriting, an unreadable scan): a person must
    # transcribe it. Its segments are kept as UNREADABLE and never translated.
    NEEDS_TRANSCRIPTION = "needs_transcription"
    # A page that needed transcription (or whose OCR failed) and now has text typed by hand
    # (MANUAL segments); `ocr_note` keeps what the OCR said about it.
    TRANSCRIBED = "transcribed"


class SegmentKind(StrEnum):
    """Role of a text block on the page; only prose kinds are translated as running text."""

    PARAGRAPH = "paragraph"
    HEADING = "heading"
    FOOTNOTE = "footnote"
    MARGINALIA = "marginalia"
    RUNNING_HEAD = "running_head"
    PAGE_NUMBER = "page_number"
    CATCHWORD = "catchword"
    # Text of a page that needs manual transcription: kept for the transcriber only.
    UNREADABLE = "unreadable"
    # A region typed by a person (the transcription editor or the API): prose, translated
    # like a paragraph, and never replaced by an OCR run or a model's proposal.
    MANUAL = "manual"


# Page furniture is kept and exported but neither merged into the text flow nor translated.
PROSE_KINDS = (
    SegmentKind.PARAGRAPH,
    SegmentKind.HEADING,
    SegmentKind.FOOTNOTE,
    SegmentKind.MARGINALIA,
    SegmentKind.MANUAL,
)
# Kinds an OCR run writes, and so replaces when it reads the page again.
OCR_KINDS = tuple(k for k in SegmentKind if k is not SegmentKind.MANUAL)


class Collection(TimestampMixin, Base):
    """A group of documents sharing a glossary, seen only by its members and administrators."""

    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique among the collections one user can see, not across the installation: a name
    # taken by a collection someone is not a member of must not be revealed to them.
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str | None] = mapped_column(Text)


class Document(TimestampMixin, Base):
    """An uploaded work: one or more files, read page by page, translated segment by segment."""

    __tablename__ = "documents"
    # The dashboard lists the newest documents first.
    __table_args__ = (Index("ix_documents_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    collection_id: Mapped[int | None] = mapped_column(
        ForeignKey("collections.id", ondelete="SET NULL"), index=True
    )
    source_lang: Mapped[str] = mapped_column(String(35))
    target_lang: Mapped[str] = mapped_column(String(35))
    status: Mapped[DocumentStatus] = mapped_column(
        enum_column(DocumentStatus, "document_status"), default=DocumentStatus.PENDING
    )
    backend: Mapped[str | None] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(255))
    translate: Mapped[bool] = mapped_column(default=True)
    # Told to the translation model as context when given (e.g. "1780s", "court records").
    period: Mapped[str | None] = mapped_column(String(100))
    genre: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    # Tesseract models decided for the whole document (`auto`, or `de` without a script).
    ocr_models: Mapped[str | None] = mapped_column(String(100))
    # Who uploaded it (None: made by the CLI, or before uploaders were recorded): they and
    # administrators may move it between collections.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    files: Mapped[list[SourceFile]] = relationship(
        back_populates="document", order_by="SourceFile.position", passive_deletes=True
    )
    pages: Mapped[list[Page]] = relationship(
        back_populates="document", order_by="Page.number", passive_deletes=True
    )


class SourceFile(TimestampMixin, Base):
    """One uploaded file, stored by content hash; the client's name is metadata only."""

    __tablename__ = "source_files"
    __table_args__ = (UniqueConstraint("document_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    media_type: Mapped[str | None] = mapped_column(String(100))
    page_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[FileStatus] = mapped_column(enum_column(FileStatus, "file_status"))
    error: Mapped[str | None] = mapped_column(Text)
    # An imported page image's transcription (PAGE/ALTO), stored beside it: the ingest step
    # makes the page's segments from it instead of OCR.
    layout_sha256: Mapped[str | None] = mapped_column(String(64))
    layout_filename: Mapped[str | None] = mapped_column(String(500))
    # Where the file was fetched from (a IIIF image), for provenance.
    source_url: Mapped[str | None] = mapped_column(Text)

    document: Mapped[Document] = relationship(back_populates="files")


class Page(TimestampMixin, Base):
    """One page image of a document, numbered across all its files."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("document_id", "number"),
        UniqueConstraint("file_id", "file_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[int] = mapped_column(ForeignKey("source_files.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    file_index: Mapped[int] = mapped_column(Integer)
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    dpi: Mapped[int | None] = mapped_column(Integer)
    ocr_status: Mapped[OcrStatus] = mapped_column(
        enum_column(OcrStatus, "ocr_status"), default=OcrStatus.PENDING
    )
    ocr_error: Mapped[str | None] = mapped_column(Text)
    ocr_engine: Mapped[str | None] = mapped_column(String(100))
    ocr_languages: Mapped[str | None] = mapped_column(String(100))
    mean_confidence: Mapped[float | None] = mapped_column(Float)
    # Why the page needs manual transcription (status NEEDS_TRANSCRIPTION), for people.
    ocr_note: Mapped[str | None] = mapped_column(Text)
    # Each preprocessing step applied, with its parameters and findings (angle, factor...).
    preprocessing: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The image as the OCR engine saw it (rotated, deskewed...), for display beside the text.
    # Segment, line and word boxes refer to this image, and width/height are its size.
    ocr_image_sha256: Mapped[str | None] = mapped_column(String(64))
    rotation: Mapped[int | None] = mapped_column(Integer)
    script: Mapped[str | None] = mapped_column(String(32))
    low_confidence_words: Mapped[int | None] = mapped_column(Integer)
    # Text lines and regions found on the image the boxes refer to, not yet typed: the
    # transcription editor's starting point ({"method", "version", "regions": [...]}).
    line_layout: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    document: Mapped[Document] = relationship(back_populates="pages")
    file: Mapped[SourceFile] = relationship()
    segments: Mapped[list[Segment]] = relationship(
        back_populates="page", order_by="Segment.position", passive_deletes=True
    )


class Segment(TimestampMixin, Base):
    """A paragraph-sized block of OCR text: the unit of alignment with its translation."""

    __tablename__ = "segments"
    __table_args__ = (
        UniqueConstraint("page_id", "position"),
        Index("ix_segments_search_vector", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[SegmentKind] = mapped_column(
        enum_column(SegmentKind, "segment_kind"),
        default=SegmentKind.PARAGRAPH,
        server_default=SegmentKind.PARAGRAPH.value,
    )
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    x0: Mapped[int] = mapped_column(Integer)
    y0: Mapped[int] = mapped_column(Integer)
    x1: Mapped[int] = mapped_column(Integer)
    y1: Mapped[int] = mapped_column(Integer)
    # json, not jsonb: read whole by Python only, and Postgres returns json's stored text
    # instead of printing every number of the words' boxes again on each read.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [start, end, confidence] of each word of `lines` in `text`, kept in step with both
    # (see spans.py); NULL on rows written before it existed or by bulk inserts.
    word_spans: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    confidence: Mapped[float | None] = mapped_column(Float)
    min_confidence: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # A MANUAL segment still being typed: kept and exported, translated once finished.
    draft: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Maintained by a database trigger in the source language's text-search configuration.
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR, deferred=True)

    page: Mapped[Page] = relationship(back_populates="segments")

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """Bounding box as (left, top, right, bottom) in page pixels."""
        return (self.x0, self.y0, self.x1, self.y1)


def translatable() -> ColumnElement[bool]:
    """Segments a translation run takes: prose, typed regions once they are finished."""
    return Segment.kind.in_(PROSE_KINDS) & Segment.draft.is_(False)


@event.listens_for(Segment, "before_insert")
@event.listens_for(Segment, "before_update")
def _keep_word_spans(_mapper: Any, _connection: Any, segment: Segment) -> None:
    """Recompute the words' offsets whenever the text or the word boxes change; a typed
    segment whose text changed alone (on the review desk) gets its lines from the text."""
    attrs = inspect(segment).attrs
    text_changed, lines_changed = (
        attrs.text.history.has_changes(),
        attrs.lines.history.has_changes(),
    )
    if segment.kind is SegmentKind.MANUAL and text_changed and not lines_changed:
        segment.lines = spans.relined(segment.text, segment.lines or [])
    if text_changed or lines_changed:
        segment.word_spans = spans.word_spans(segment.text, segment.lines or [])


# The table `documents.created_by` refers to, so that these models work in a process that
# has imported nothing else.
from service.accounts import models as _accounts  # noqa: E402, F401
