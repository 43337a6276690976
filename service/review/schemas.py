"""Pydantic shapes of the review API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.review.models import AnnotationLayer, AnnotationType, EditField
from service.review.search import Form
from service.translation.models import TranslationStatus


class SourceEdit(BaseModel):
    """A corrected transcription; `version` is the one the editor loaded (conflict check)."""

    text: str = Field(max_length=100_000)
    version: int | None = None


class TranslationEdit(BaseModel):
    """A corrected translation of the segment's current (or the given) translation."""

    text: str = Field(max_length=100_000)
    version: int | None = None
    translation_id: int | None = None


class SegmentState(BaseModel):
    """A segment after a change: both texts, their versions and the translation's state."""

    id: int
    source: str
    normalized: str
    source_version: int
    translation_id: int | None
    translation: str | None
    translation_version: int | None
    status: TranslationStatus | None
    stale: bool


class ConflictRead(BaseModel):
    """Answer to a save that would have overwritten someone else's change."""

    error: str
    message: str
    current_text: str
    current_version: int


class EditRead(BaseModel):
    """One entry of a segment's history."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    field: EditField
    before: str
    after: str
    author: str
    author_id: int | None = Field(description="the account that made the change")
    created_at: datetime
    reverts_id: int | None
    diff: list[tuple[str, str]] = Field(
        default=[],
        description="before → after word by word: ('=', kept), ('-', removed), ('+', added)",
    )


class Approved(BaseModel):
    """How many translations an approval changed."""

    approved: int


class AnnotationCreate(BaseModel):
    """Tag a character range of a segment's source or translation."""

    layer: AnnotationLayer
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    type: AnnotationType
    body: str | None = Field(default=None, max_length=10_000)


class AnnotationRead(BaseModel):
    """An annotation with the text it covers."""

    id: int
    segment_id: int
    page: int
    layer: AnnotationLayer
    start: int
    end: int
    type: AnnotationType
    body: str | None
    author: str | None
    author_id: int | None = Field(description="the account that made the annotation")
    text: str


class SearchHitRead(BaseModel):
    """A search result linking to the segment on its page."""

    document_id: int
    document_title: str
    page: int
    segment_id: int
    layer: AnnotationLayer
    form: Form = Field(
        description="the form of the text that matched: diplomatic, normalised, translation "
        "or without accents (a query typed without accents also finds accented words)"
    )
    excerpt: str
    url: str
