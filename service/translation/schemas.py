"""Pydantic shapes of the translation API: runs, comparisons, glossaries, corrections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.translation.models import ItemStatus, RunKind, RunPurpose, RunStatus


class RunCreate(BaseModel):
    """A run over some or all of a document's segments with one model."""

    backend: str | None = Field(None, description="auto, ollama, embedded or openai")
    model: str | None = None
    page_from: int | None = Field(None, ge=1)
    page_to: int | None = Field(None, ge=1)
    segment_ids: list[int] | None = None
    force: bool = Field(False, description="translate again even where this model is done")
    kind: RunKind = RunKind.TRANSLATE
    with_images: bool = Field(
        False,
        description="with kind `correct`: a vision model reads each segment's image beside "
        "its OCR text (model default: PALIMPSEST_VISION_MODEL)",
    )


class ModelChoice(BaseModel):
    """A backend and model to compare."""

    backend: str | None = None
    model: str | None = None


class ComparisonCreate(BaseModel):
    """Two or more models over the same pages."""

    models: list[ModelChoice] = Field(min_length=2, max_length=6)
    page_from: int | None = Field(None, ge=1)
    page_to: int | None = Field(None, ge=1)


class Retranslate(BaseModel):
    """Which model re-translates; the document's own when left out."""

    backend: str | None = None
    model: str | None = None


class RunRead(BaseModel):
    """A run and its progress."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    document_id: int
    kind: RunKind
    purpose: RunPurpose
    status: RunStatus
    with_images: bool = False
    backend: str | None
    model: str | None
    model_digest: str | None
    prompt_version: str | None
    page_from: int | None
    page_to: int | None
    total: int
    done: int
    failed: int
    skipped: int
    error: str | None
    detail: str | None
    waiting: str | None = Field(
        default=None, description="why the run is held up; it resumes by itself"
    )
    waiting_since: datetime | None = None
    started_at: datetime | None
    finished_at: datetime | None


class ComparisonCreated(BaseModel):
    """The runs started for a comparison and where to watch them."""

    runs: list[RunRead]
    url: str
    api_url: str


class RunStatsRead(BaseModel):
    """One compared run's figures."""

    run: RunRead
    segments: int
    translated: int = Field(description="translated by this run itself")
    reused: int = Field(description="this model's earlier translations the run kept")
    failed: int
    untranslated: int
    needs_check: int = 0
    fallbacks: int
    from_memory: int
    tokens_in: int
    tokens_out: int
    tokens_per_s: float | None
    wall_s: float | None
    model_s: float
    length_ratio: float | None


class CellRead(BaseModel):
    """One run's outcome for a segment."""

    run_id: int
    status: ItemStatus | None
    text: str | None
    error: str | None
    fallbacks: list[str] = []
    flags: list[dict[str, Any]] = []
    from_memory: bool = False
    reused: str | None = Field(
        default=None, description="why the run did not translate it itself, when it did not"
    )


class RowRead(BaseModel):
    """A segment across runs."""

    segment_id: int
    page: int
    source: str
    cells: list[CellRead]


class ComparisonRead(BaseModel):
    """Figures per run and the segments side by side."""

    document_id: int
    runs: list[RunStatsRead]
    rows: list[RowRead]


class CollectionCreate(BaseModel):
    """A new collection of documents sharing a glossary."""

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None


class CollectionRead(BaseModel):
    """A collection."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None


class GlossaryEntryWrite(BaseModel):
    """A term and its agreed rendering."""

    term: str = Field(min_length=1, max_length=200)
    translation: str = Field(min_length=1, max_length=200)
    note: str | None = None


class GlossaryEntryRead(GlossaryEntryWrite):
    """A glossary entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    collection_id: int


class CorrectionRead(BaseModel):
    """A segment's OCR text beside a model's proposed correction."""

    segment_id: int
    page: int
    ocr: str
    corrected: str | None
    changed: bool
    stale: bool
    error: str | None
    backend: str | None
    model: str | None
    diff: list[tuple[str, str]]
    flags: list[dict[str, Any]] = Field(
        default_factory=list,
        description="from_image: read from the page image; modernised/historicised: "
        "spellings the model changed",
    )
