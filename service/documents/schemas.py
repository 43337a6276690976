"""Pydantic shapes of the documents API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from service.documents.models import DocumentStatus, FileStatus, OcrStatus, SegmentKind
from service.errors import InvalidInput
from service.jobs.models import JobStage, JobStatus
from service.translation.models import TranslationStatus

MAX_PAGE_NUMBER = 2**31 - 1  # what a page's integer column holds
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE_NUMBER)]
_PAGE_NUMBER: TypeAdapter[int] = TypeAdapter(PageNumber)


def parse_page_number(value: str, name: str) -> int:
    """A page number from text, parsed as every `page` parameter is (ASCII digits, 1 or
    more): `"²".isdigit()` is true in Python, but "²" is not a page number."""
    try:
        return _PAGE_NUMBER.validate_python(value.strip())
    except ValidationError:
        raise InvalidInput(f"{name} must be a page number (1 or more), not {value!r}.") from None


class FileRead(BaseModel):
    """One uploaded file and what became of it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    media_type: str | None
    size: int
    sha256: str | None
    page_count: int | None
    status: FileStatus
    error: str | None


class FileRejected(BaseModel):
    """A file refused at upload, with the reason."""

    filename: str
    error: str


class DuplicateRead(BaseModel):
    """A file of this document that an earlier document already holds (same SHA-256)."""

    model_config = ConfigDict(from_attributes=True)

    filename: str
    document_id: int
    title: str
    message: str = Field(description='"<file>: already uploaded as <title>"')


class JobRead(BaseModel):
    """Progress of one pipeline stage."""

    model_config = ConfigDict(from_attributes=True)

    stage: JobStage
    status: JobStatus
    done: int
    failed: int
    total: int
    error: str | None
    detail: str | None
    waiting: str | None = Field(
        None,
        description="why the stage waits (e.g. the model server does not answer); "
        "it resumes by itself",
    )
    waiting_since: datetime | None = None


class PageRead(BaseModel):
    """A page and its OCR outcome."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: int
    width: int | None
    height: int | None
    dpi: int | None
    ocr_status: OcrStatus
    ocr_error: str | None
    ocr_note: str | None = None
    needs_transcription: bool = False
    mean_confidence: float | None
    low_confidence_words: int | None = None
    ocr_languages: str | None = None
    script: str | None = None
    rotation: int | None = None
    preprocessing: dict[str, Any] | None = None
    image_url: str | None = None
    ocr_image_url: str | None = None


class CollectionDeletedRead(BaseModel):
    """A deleted collection: its name, and what became of how many documents."""

    name: str
    documents: str = Field(description="delete, move, ungroup, or refuse (it was empty)")
    count: int


class DocumentSummary(BaseModel):
    """A document in the list."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    source_lang: str
    target_lang: str
    status: DocumentStatus
    collection_id: int | None = None
    created_at: datetime
    updated_at: datetime


class DocumentRead(DocumentSummary):
    """A document with its files, pages and per-stage progress."""

    backend: str | None
    model: str | None
    error: str | None
    files: list[FileRead]
    pages: list[PageRead]
    jobs: list[JobRead]
    duplicates: list[DuplicateRead] = []
    needs_check: int = Field(
        0,
        description="segments whose shown machine translation an automatic check doubted "
        "(status `needs_check`; the reasons are the translation's `flags`) and no reviewer "
        "has edited or approved since",
    )


class DocumentCreated(BaseModel):
    """Answer to an upload: the new document and any files refused."""

    id: int
    status: DocumentStatus
    url: str
    files: list[FileRead]
    rejected: list[FileRejected]
    duplicates: list[DuplicateRead] = Field(
        default_factory=list,
        description="files already uploaded as part of an earlier document; created anyway",
    )


class TranslationRead(BaseModel):
    """A segment's translation by one model."""

    text: str
    backend: str
    model: str
    status: TranslationStatus
    stale: bool
    error: str | None
    tokens_in: int | None
    tokens_out: int | None
    duration_ms: float | None
    model_digest: str | None = None
    host: str | None = None
    prompt_version: str | None = None
    generation_ms: float | None = None
    tokens_per_s: float | None = None
    attempts: int = 0
    fallbacks: list[str] = []
    flags: list[dict[str, Any]] = []
    from_memory: bool = False
    run_id: int | None = None


class SegmentRead(BaseModel):
    """One aligned unit: the OCR text, its place on the page and its translation."""

    id: int
    page: int
    position: int
    bbox: tuple[int, int, int, int]
    kind: SegmentKind = SegmentKind.PARAGRAPH
    confidence: float | None
    min_confidence: float | None = None
    low_confidence_words: list[str] = []
    lines: list[dict[str, Any]] = []
    source: str
    normalized: str
    translation: TranslationRead | None
