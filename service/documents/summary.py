"""What a document's header and stages say: what was read, what was typed by hand, what
was translated and by which model — counted, never taken from what was asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.documents.models import OcrStatus, Page, Segment, SegmentKind, translatable
from service.translation.models import Translation, TranslationStatus
from service.translation.shown import latest_shown


@dataclass(frozen=True)
class ReadingSummary:
    """Counts of one document's pages, typed regions and translations."""

    pages: int = 0
    read_by_ocr: int = 0
    pending: int = 0
    needs_transcription: list[int] = field(default_factory=list)
    transcribed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    typed: int = 0
    drafts: int = 0
    to_translate: int = 0
    translated: int = 0
    failed_translations: int = 0
    models: list[str] = field(default_factory=list)

    @property
    def retryable(self) -> bool:
        """Whether "Retry what failed" can do anything (a page needing a person cannot)."""
        return bool(self.failed or self.failed_translations)

    @property
    def model_names(self) -> str:
        """The models that made the shown translations, by name."""
        return ", ".join(m.rsplit("/", 1)[-1] for m in self.models)


def summarise(session: Session, document_id: int) -> ReadingSummary:
    """Count what a document holds now (a few aggregate queries, whatever its size)."""
    pages = _pages(session, document_id)
    typed = dict(
        session.execute(
            select(Segment.draft, func.count())
            .where(Segment.document_id == document_id, Segment.kind == SegmentKind.MANUAL)
            .group_by(Segment.draft)
        ).all()
    )
    to_translate = session.scalar(
        select(func.count()).where(Segment.document_id == document_id, translatable())
    )
    translated, failed, models = _translations(session, document_id)
    return ReadingSummary(
        pages=sum(len(numbers) for numbers in pages.values()),
        read_by_ocr=len(pages.get(OcrStatus.DONE, [])),
        pending=len(pages.get(OcrStatus.PENDING, [])),
        needs_transcription=pages.get(OcrStatus.NEEDS_TRANSCRIPTION, []),
        transcribed=pages.get(OcrStatus.TRANSCRIBED, []),
        failed=pages.get(OcrStatus.FAILED, []),
        typed=int(typed.get(False, 0)),
        drafts=int(typed.get(True, 0)),
        to_translate=int(to_translate or 0),
        translated=translated,
        failed_translations=failed,
        models=models,
    )


def _pages(session: Session, document_id: int) -> dict[OcrStatus, list[int]]:
    found: dict[OcrStatus, list[int]] = {}
    rows = session.execute(
        select(Page.ocr_status, Page.number)
        .where(Page.document_id == document_id)
        .order_by(Page.number)
    )
    for status, number in rows:
        found.setdefault(status, []).append(number)
    return found


def _translations(session: Session, document_id: int) -> tuple[int, int, list[str]]:
    """Segments to translate that show a translation, that failed, and the models."""
    columns: tuple[Any, ...] = (
        Translation.segment_id,
        Translation.status,
        Translation.backend,
        Translation.model,
    )
    query: Select[Any] = (
        select(*columns)
        .join(Segment, Segment.id == Translation.segment_id)
        .where(Segment.document_id == document_id, translatable())
    )
    shown = latest_shown(query).subquery()
    rows = session.execute(
        select(shown.c.status, shown.c.backend, shown.c.model, func.count()).group_by(
            shown.c.status, shown.c.backend, shown.c.model
        )
    ).all()
    translated = sum(n for status, _, _, n in rows if status != TranslationStatus.FAILED)
    failed = sum(n for status, _, _, n in rows if status == TranslationStatus.FAILED)
    models = sorted(
        {
            "by hand" if backend == "manual" else f"{backend} {model}"
            for status, backend, model, _ in rows
            if status != TranslationStatus.FAILED
        }
    )
    return translated, failed, models
