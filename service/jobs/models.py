"""Pipeline progress: one row per document and stage, read by the UI."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TimestampMixin, enum_column
from service.documents import models as _documents  # noqa: F401 - tables its foreign keys name


class JobStage(StrEnum):
    """Pipeline stages in the order they run."""

    INGEST = "ingest"
    OCR = "ocr"
    TRANSLATE = "translate"
    FINALIZE = "finalize"


class JobStatus(StrEnum):
    """State of one stage of one document."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class Job(TimestampMixin, Base):
    """Progress of one stage of one document: done of total, and the error if any."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("document_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    stage: Mapped[JobStage] = mapped_column(enum_column(JobStage, "job_stage"))
    status: Mapped[JobStatus] = mapped_column(
        enum_column(JobStatus, "job_status"), default=JobStatus.PENDING
    )
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    # Why the stage cannot go on for now (the model server does not answer); it retries by
    # itself and this is cleared as soon as it moves again.
    waiting: Mapped[str | None] = mapped_column(Text)
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StepAttempt(Base):
    """A pipeline step that failed or had to be re-sent, until it succeeds (then the row
    goes): the reconciler gives up on a step re-sent too often, with its last error."""

    __tablename__ = "step_attempts"

    # claims.step_key of the step: its task name and arguments.
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    task: Mapped[str] = mapped_column(String(64))
    args: Mapped[list[Any]] = mapped_column(JSONB)
    resent: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
