"""Pydantic shapes of the transcription API: typed regions, detected lines, proposals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.documents.models import SegmentKind
from service.transcription.models import ProposalStatus, ProposalUnit

BBox = tuple[int, int, int, int]
BOX_HELP = "[left, top, right, bottom] in pixels of the page image the boxes refer to"


def _checked_box(value: BBox | None) -> BBox | None:
    if value is None:
        return None
    left, top, right, bottom = value
    if min(value) < 0 or right <= left or bottom <= top:
        raise ValueError("a box is [left, top, right, bottom] with left < right, top < bottom")
    return value


class LineIn(BaseModel):
    """One typed line: its box on the scan, its text, and the stretches marked unclear."""

    bbox: BBox | None = Field(None, description=BOX_HELP)
    text: str = Field("", max_length=2_000)
    unclear: list[tuple[int, int]] = Field(
        default_factory=list,
        max_length=100,
        description="[start, end) character ranges of the line read with doubt",
    )
    proposal_id: int | None = Field(None, description="the model proposal this line took over")

    _box = field_validator("bbox")(_checked_box)

    @field_validator("text")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("a line's text holds no line break; send one line per line")
        return value


class ManualSegmentCreate(BaseModel):
    """A region typed by hand. `lines` is optional: without it, `text`'s lines have no boxes."""

    bbox: BBox = Field(description=BOX_HELP)
    text: str | None = Field(None, max_length=50_000, description="the lines joined by \\n")
    lines: list[LineIn] | None = Field(None, max_length=500)
    draft: bool = Field(False, description="still being typed: saved, not yet translated")

    _box = field_validator("bbox")(_checked_box)


class ManualSegmentUpdate(BaseModel):
    """A change of a typed region; what is left out stays as it is."""

    bbox: BBox | None = Field(None, description=BOX_HELP)
    text: str | None = Field(None, max_length=50_000)
    lines: list[LineIn] | None = Field(None, max_length=500)
    draft: bool | None = None
    version: int | None = Field(None, description="the version you loaded (conflict check)")

    _box = field_validator("bbox")(_checked_box)


class LineRead(BaseModel):
    """A typed line as stored."""

    bbox: BBox | None
    text: str
    unclear: list[tuple[int, int]] = []
    proposal_id: int | None = None


class ManualSegmentRead(BaseModel):
    """A typed region, and whether its translation was queued."""

    id: int
    document_id: int
    page_id: int
    page: int
    position: int
    kind: SegmentKind
    bbox: BBox
    text: str
    normalized: str
    lines: list[LineRead]
    draft: bool
    version: int
    translation_queued: bool = False
    translation_run_id: int | None = None
    translation_note: str | None = None
    page_status: str
    page_status_text: str
    lines_version: int = Field(0, description="version of the page's untyped lines now")


class DetectedLine(BaseModel):
    """A text line found on the scan, not typed yet."""

    bbox: BBox


class DetectedRegion(BaseModel):
    """Consecutive detected lines of one block of text."""

    id: str
    bbox: BBox
    lines: list[DetectedLine]


class PageLinesRead(BaseModel):
    """The lines found on a page and not typed yet, grouped into regions."""

    page_id: int
    width: int | None
    height: int | None
    image_url: str = Field(description="the image the boxes refer to")
    status: str = Field(description="`ready`, or `detecting` (ask again in a moment)")
    method: str | None = None
    spacing: float | None = Field(None, description="line spacing in pixels")
    version: int = 0
    regions: list[DetectedRegion] = []
    lines: list[DetectedLine] = Field([], description="every line of `regions`, in order")
    typed: list[int] = Field([], description="ids of the page's typed (manual) segments")


class PageLinesUpdate(BaseModel):
    """The editor's changes to the untyped regions (moved, resized, merged, deleted)."""

    version: int = Field(description="the version you loaded (conflict check)")
    regions: list[DetectedRegion] = Field(max_length=500)


class ProposalRead(BaseModel):
    """A vision model's reading of one box, with its provenance."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    page_id: int
    unit: ProposalUnit
    bbox: BBox
    lines: list[dict[str, Any]]
    status: ProposalStatus
    text: str
    error: str | None
    waiting: str | None
    backend: str
    model: str
    model_digest: str | None
    host: str | None
    prompt_version: str | None
    image_pixels: int | None
    tokens_in: int | None
    tokens_out: int | None
    duration_ms: float | None
    attempts: int
    flags: list[dict[str, Any]]
    created_at: datetime
    answered_at: datetime | None


class ProposalRequest(BaseModel):
    """Ask a vision model to read a page's untyped regions (or lines)."""

    backend: str | None = Field(None, description="ollama or openai (PALIMPSEST_VISION_BACKEND)")
    model: str | None = Field(None, description="default: PALIMPSEST_VISION_MODEL")
    unit: ProposalUnit = ProposalUnit.LINE
    force: bool = Field(False, description="ask again where this model answered already")
