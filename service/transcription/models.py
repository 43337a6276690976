"""A vision model's proposed transcription of one region or line of a page, with provenance.

Proposals are a layer of their own beside what was typed: accepting one copies its text
into a typed (MANUAL) segment; nothing ever writes a proposal into a segment by itself.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TimestampMixin, enum_column


class ProposalUnit(StrEnum):
    """What one image shows the model: a whole region, or one text line."""

    REGION = "region"
    LINE = "line"


class ProposalStatus(StrEnum):
    """Life of one proposal: asked, answered, or given up with a reason."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class TranscriptionProposal(TimestampMixin, Base):
    """What one vision model read in one box of a page (keyed by page, box and model)."""

    __tablename__ = "transcription_proposals"
    __table_args__ = (
        UniqueConstraint("page_id", "unit", "x0", "y0", "x1", "y1", "backend", "model"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    unit: Mapped[ProposalUnit] = mapped_column(enum_column(ProposalUnit, "proposal_unit"))
    # The box shown to the model, in the coordinates of the image the page's boxes refer to.
    x0: Mapped[int] = mapped_column(Integer)
    y0: Mapped[int] = mapped_column(Integer)
    x1: Mapped[int] = mapped_column(Integer)
    y1: Mapped[int] = mapped_column(Integer)
    # The text lines of the box ([{"bbox": [...]}]): the model is told how many to expect,
    # and its answer's lines are matched to them when the counts agree.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=sql("'[]'::jsonb")
    )
    status: Mapped[ProposalStatus] = mapped_column(
        enum_column(ProposalStatus, "proposal_status"), default=ProposalStatus.PENDING
    )
    text: Mapped[str] = mapped_column(Text, default="", server_default="")
    error: Mapped[str | None] = mapped_column(Text)
    # Why the proposal waits (the model server does not answer); it retries by itself.
    waiting: Mapped[str | None] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(255))
    model_digest: Mapped[str | None] = mapped_column(String(128))
    host: Mapped[str | None] = mapped_column(String(255))
    prompt_version: Mapped[str | None] = mapped_column(String(32))
    # Long side of the image sent, after scaling the crop down to the pixel budget.
    image_pixels: Mapped[int | None] = mapped_column(Integer)
    tokens_in: Mapped[int | None] = mapped_column(Integer)
    tokens_out: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=sql("0"))
    flags: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=sql("'[]'::jsonb")
    )
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """The box shown to the model as (left, top, right, bottom)."""
        return (self.x0, self.y0, self.x1, self.y1)
