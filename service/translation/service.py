"""Translating segments in batches and storing one row per segment and model."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.documents.models import PROSE_KINDS, Page, Segment
from service.ocr.text import source_hash, storable
from service.translation.backends.base import BatchRequest, BatchResult, TranslationBackend
from service.translation.chunking import SegmentText, plan_batches
from service.translation.models import Translation, TranslationStatus

log = logging.getLogger(__name__)

# A reviewer's work is never overwritten by a machine run.
PROTECTED = (TranslationStatus.EDITED, TranslationStatus.APPROVED)


def document_segments(session: Session, document_id: int) -> list[SegmentText]:
    """Every segment of a document in reading order, with the text to translate."""
    rows = session.execute(
        select(Segment.id, Segment.normalized)
        .join(Page, Page.id == Segment.page_id)
        .where(Segment.document_id == document_id, Segment.kind.in_(PROSE_KINDS))
        .order_by(Page.number, Segment.position)
    )
    return [SegmentText(id=row.id, text=row.normalized) for row in rows]


def plan(session: Session, document_id: int, budget: int) -> list[list[int]]:
    """Batches of segment ids under the token budget, in reading order."""
    return plan_batches(document_segments(session, document_id), budget)


def pending(
    session: Session, segment_ids: Sequence[int], backend: str, model: str
) -> list[SegmentText]:
    """The batch's segments that still need a translation by this model (idempotency guard)."""
    segments = session.scalars(select(Segment).where(Segment.id.in_(segment_ids))).all()
    done = {
        t.segment_id: t
        for t in session.scalars(
            select(Translation).where(
                Translation.segment_id.in_(segment_ids),
                Translation.backend == backend,
                Translation.model == model,
            )
        )
    }
    order = {seg_id: i for i, seg_id in enumerate(segment_ids)}
    todo = [s for s in segments if not _is_current(done.get(s.id), s.normalized)]
    todo.sort(key=lambda s: order[s.id])
    return [SegmentText(id=s.id, text=s.normalized) for s in todo]


def _is_current(existing: Translation | None, text: str) -> bool:
    if existing is None:
        return False
    if existing.status in PROTECTED:
        return True
    return existing.status is not TranslationStatus.FAILED and existing.source_hash == source_hash(
        text
    )


def translate_batch(
    session: Session,
    document_id: int,
    segment_ids: Sequence[int],
    backend: TranslationBackend,
    languages: tuple[str, str],
) -> None:
    """Translate the segments of a batch that need it and store every outcome per segment."""
    todo = pending(session, segment_ids, backend.name, backend.model)
    if not todo:
        return
    result = backend.translate(BatchRequest(languages[0], languages[1], todo))
    store_results(session, document_id, todo, result, (backend.name, backend.model))


def record_failure(
    session: Session,
    document_id: int,
    segment_ids: Sequence[int],
    model_key: tuple[str, str],
    reason: str,
) -> None:
    """Mark the batch's still untranslated segments failed with a reason (retries exhausted)."""
    todo = pending(session, segment_ids, *model_key)
    failed = BatchResult(failures={s.id: reason for s in todo})
    store_results(session, document_id, todo, failed, model_key)


def store_results(
    session: Session,
    document_id: int,
    segments: Sequence[SegmentText],
    result: BatchResult,
    model_key: tuple[str, str],
) -> None:
    """Upsert one row per segment: the translation, or a failed row with the reason."""
    for segment in segments:
        values = _row(document_id, segment, result, model_key)
        statement = insert(Translation).values(**values)
        statement = statement.on_conflict_do_update(
            constraint="uq_translations_segment_id_backend_model",
            set_={k: statement.excluded[k] for k in values if k not in KEY_COLUMNS},
            where=Translation.status.not_in(PROTECTED),
        )
        session.execute(statement)
    session.flush()


KEY_COLUMNS = ("segment_id", "backend", "model")


def _row(
    document_id: int, segment: SegmentText, result: BatchResult, model_key: tuple[str, str]
) -> dict[str, object]:
    base: dict[str, object] = {
        "segment_id": segment.id,
        "document_id": document_id,
        "backend": model_key[0],
        "model": model_key[1],
        "source_hash": source_hash(segment.text),
    }
    done = result.translations.get(segment.id)
    if done is not None:
        return base | {
            "text": storable(done.text),
            "status": TranslationStatus.MACHINE,
            "error": None,
            "tokens_in": done.tokens_in,
            "tokens_out": done.tokens_out,
            "duration_ms": done.duration_ms,
        }
    reason = result.failures.get(segment.id, "The model returned no translation for this segment.")
    return base | {
        "text": "",
        "status": TranslationStatus.FAILED,
        "error": storable(reason),
        "tokens_in": None,
        "tokens_out": None,
        "duration_ms": None,
    }
