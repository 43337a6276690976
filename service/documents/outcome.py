"""A document's status once its pipeline has run: what was read, what failed, and why."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.documents.models import (
    Document,
    DocumentStatus,
    FileStatus,
    OcrStatus,
    Page,
    SourceFile,
)
from service.translation.models import Translation, TranslationStatus


def mark_processing(document: Document) -> None:
    """Record that the pipeline has started on the document."""
    if document.status is DocumentStatus.PENDING:
        document.status = DocumentStatus.PROCESSING


def page_failures(session: Session, document_id: int) -> list[str]:
    """Readable reasons of every failed file and page of a document."""
    files = session.scalars(
        select(SourceFile).where(
            SourceFile.document_id == document_id, SourceFile.status == FileStatus.FAILED
        )
    )
    pages = session.scalars(
        select(Page)
        .where(
            Page.document_id == document_id,
            Page.ocr_status.in_((OcrStatus.FAILED, OcrStatus.NEEDS_TRANSCRIPTION)),
        )
        .order_by(Page.number)
    )
    return [f"{f.filename}: {f.error}" for f in files] + [
        f"page {p.number}: {p.ocr_error or p.ocr_note}" for p in pages
    ]


# Pages whose text is there to use: read by OCR, read but needing a person (a status that
# says what to do next), or typed by hand.
READ_STATUSES = (OcrStatus.DONE, OcrStatus.NEEDS_TRANSCRIPTION, OcrStatus.TRANSCRIBED)
FINISHED = (DocumentStatus.DONE, DocumentStatus.PARTIAL, DocumentStatus.FAILED)


def outcome(
    session: Session, document_id: int, stopped: Sequence[str] = ()
) -> tuple[DocumentStatus, str | None]:
    """A document's final status and the problems it has, from its pages and translations;
    `stopped` says why its translation stopped (cancelled, or it could not start)."""
    problems = page_failures(session, document_id)
    failed = session.scalar(
        select(func.count()).where(
            Translation.document_id == document_id,
            Translation.status == TranslationStatus.FAILED,
        )
    )
    if failed:
        problems.append(f"{failed} segment(s) could not be translated")
    else:
        problems += stopped
    read = session.scalar(
        select(func.count()).where(
            Page.document_id == document_id, Page.ocr_status.in_(READ_STATUSES)
        )
    )
    status = (
        DocumentStatus.FAILED
        if not read
        else DocumentStatus.PARTIAL
        if problems
        else DocumentStatus.DONE
    )
    return status, "; ".join(problems) or None


def settle_outcome(session: Session, document: Document) -> None:
    """Work a finished document's status out again after a change outside the pipeline
    (a page typed by hand, its translation); a document in the pipeline is left to it."""
    if document.status in FINISHED:
        session.flush()
        document.status, document.error = outcome(session, document.id)
