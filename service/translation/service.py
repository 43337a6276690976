"""Translating (or correcting) a run's batch and storing one row per segment and model.

A batch goes: segments still needing work → translation memory → model (long segments in
parts, answers checked, retried once) → one upsert per table for the whole batch. Rows are
keyed (segment, backend, model), so a redelivered batch rewrites the same rows, and a row a
reviewer edited or approved is never overwritten by a machine.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.documents.models import Document, Page, Segment, translatable
from service.text import source_hash, storable
from service.translation import batching, glossary, memory
from service.translation.backends.base import Task, TranslationBackend, Unit
from service.translation.checks import is_doubt
from service.translation.models import (
    Correction,
    ItemStatus,
    RunItem,
    RunKind,
    RunPurpose,
    Translation,
    TranslationRun,
    TranslationStatus,
)
from service.translation.modes import dictionary
from service.translation.prompts import PROMPT_VERSION
from service.translation.shown import comparison_runs

log = logging.getLogger(__name__)

# A reviewer's work is never overwritten by a machine run.
PROTECTED = (TranslationStatus.EDITED, TranslationStatus.APPROVED)


@dataclass(frozen=True)
class Work:
    """A batch split into what needs the model and what is settled already."""

    units: list[batching.Unit]
    settled: dict[int, tuple[ItemStatus, str]]


def translate_batch(
    session: Session,
    run: TranslationRun,
    segment_ids: Sequence[int],
    backend: TranslationBackend,
    context_segments: int = 2,
) -> None:
    """Answer the batch's segments that need it and record every outcome per segment."""
    document = session.get(Document, run.document_id)
    if document is None:
        return
    work = pending(session, run, segment_ids, context_segments)
    if work.units:
        units = _with_glossary(session, document, work.units)
        outcomes = _answer(session, run, document, units, backend)
        store(session, run, outcomes)
    _settle(session, run.id, work.settled)


def pending(
    session: Session, run: TranslationRun, segment_ids: Sequence[int], context_segments: int = 2
) -> Work:
    """The batch's segments that still need this run's model (the idempotency guard)."""
    units = _units(session, run.document_id, segment_ids, context_segments)
    existing = _existing(session, run, [u.segment_id for u in units])
    todo: list[batching.Unit] = []
    settled: dict[int, tuple[ItemStatus, str]] = {}
    for unit in units:
        status = _settled(existing.get(unit.segment_id), unit.text, run.force)
        if status is None:
            todo.append(unit)
        else:
            settled[unit.segment_id] = status
    for seg_id in set(segment_ids) - {u.segment_id for u in units}:
        settled[seg_id] = (ItemStatus.SKIPPED, "the segment is no longer prose to translate")
    return Work(todo, settled)


def _units(
    session: Session, document_id: int, segment_ids: Sequence[int], context_segments: int
) -> list[batching.Unit]:
    order = (Page.number, Segment.position)
    lags = [
        func.lag(Segment.normalized, n).over(order_by=order).label(f"c{n}")
        for n in range(1, context_segments + 1)
    ]
    prose = (
        select(Segment.id, Segment.normalized, *lags)
        .join(Page, Page.id == Segment.page_id)
        .where(Segment.document_id == document_id, translatable())
        .subquery()
    )
    rows = session.execute(select(prose).where(prose.c.id.in_(list(segment_ids)))).all()
    by_id = {row.id: row for row in rows}
    return [
        batching.Unit(seg_id, by_id[seg_id].normalized, _context(by_id[seg_id], context_segments))
        for seg_id in segment_ids
        if seg_id in by_id
    ]


def _context(row: Any, count: int) -> tuple[str, ...]:
    before = [getattr(row, f"c{n}") for n in range(count, 0, -1)]
    return tuple(text for text in before if text)


def _existing(
    session: Session, run: TranslationRun, segment_ids: list[int]
) -> dict[int, tuple[bool, bool, str]]:
    """(protected, failed, source hash) of the rows this run's model has for the segments."""
    table: Any = Correction if run.kind is RunKind.CORRECT else Translation
    rows = session.execute(
        select(table).where(
            table.segment_id.in_(segment_ids),
            table.backend == run.backend,
            table.model == run.model,
        )
    ).scalars()
    if run.kind is RunKind.CORRECT:
        return {r.segment_id: (False, r.failed, r.source_hash) for r in rows}
    return {
        r.segment_id: (r.status in PROTECTED, r.status is TranslationStatus.FAILED, r.source_hash)
        for r in rows
    }


def _settled(
    existing: tuple[bool, bool, str] | None, text: str, force: bool
) -> tuple[ItemStatus, str] | None:
    if existing is None:
        return None
    protected, failed, old_hash = existing
    if protected:
        return ItemStatus.SKIPPED, "kept: a reviewer edited or approved this translation"
    if force or failed or old_hash != source_hash(text):
        return None
    return ItemStatus.DONE, "already done by this model"


def _with_glossary(
    session: Session, document: Document, units: list[batching.Unit]
) -> list[batching.Unit]:
    hints = glossary.hints_for_document(session, document)
    if not hints:
        return units
    return [
        batching.Unit(u.segment_id, u.text, u.context, glossary.occurring(hints, u.text))
        for u in units
    ]


def memory_model(run: TranslationRun, document: Document) -> memory.ModelKey:
    """The model half of this run's memory keys."""
    correcting = run.kind is RunKind.CORRECT
    return memory.ModelKey(
        kind=run.kind,
        backend=run.backend or "",
        model=run.model or "",
        digest=run.model_digest,
        prompt_version=run.prompt_version or PROMPT_VERSION,
        source_lang=document.source_lang,
        target_lang=document.source_lang if correcting else document.target_lang,
        period=document.period,
        genre=document.genre,
        unit=run.unit or Unit.SEGMENT.value,
    )


def _answer(
    session: Session,
    run: TranslationRun,
    document: Document,
    units: list[batching.Unit],
    backend: TranslationBackend,
) -> list[batching.Outcome]:
    model = memory_model(run, document)
    keys = {u.segment_id: memory.key(model, u.text, u.context, u.glossary) for u in units}
    found = {} if run.force else memory.lookup(session, list(keys.values()))
    outcomes = {
        u.segment_id: _remembered(u, found[keys[u.segment_id]])
        for u in units
        if keys[u.segment_id] in found
    }
    memory.count_hits(session, [o.memory_id for o in outcomes.values() if o.memory_id])
    first: dict[str, batching.Unit] = {}
    for unit in units:
        if unit.segment_id not in outcomes:
            first.setdefault(keys[unit.segment_id], unit)
    fresh = _ask(run, document, list(first.values()), backend)
    memory.remember(
        session,
        model,
        [
            memory.NewEntry(keys[o.segment_id], u.text, o.text, document.id)
            for u, o in zip(first.values(), fresh, strict=True)
            if o.text is not None and not _doubted(o)
        ],
    )
    by_key = {keys[o.segment_id]: o for o in fresh}
    for unit in units:
        if unit.segment_id not in outcomes:
            outcomes[unit.segment_id] = _copy(by_key[keys[unit.segment_id]], unit.segment_id)
    return [outcomes[u.segment_id] for u in units]


def _ask(
    run: TranslationRun,
    document: Document,
    units: list[batching.Unit],
    backend: TranslationBackend,
) -> list[batching.Outcome]:
    if not units:
        return []
    correcting = run.kind is RunKind.CORRECT
    spec = batching.Spec(
        task=Task.CORRECT if correcting else Task.TRANSLATE,
        source_lang=document.source_lang,
        target_lang=document.source_lang if correcting else document.target_lang,
        budget=run.budget or 1200,
        period=document.period,
        genre=document.genre,
        route=run.id,
        unit=Unit(run.unit or Unit.SEGMENT),
        known=dictionary(document.source_lang),
    )
    return batching.answer(units, backend, spec)


def _remembered(unit: batching.Unit, entry: Any) -> batching.Outcome:
    outcome = batching.Outcome(unit.segment_id, text=entry.text, memory_id=entry.id)
    outcome.digest = entry.model_digest
    outcome.flags.extend(glossary.missing_renderings(unit.glossary, unit.text, entry.text))
    return outcome


def _copy(original: batching.Outcome, segment_id: int) -> batching.Outcome:
    if original.segment_id == segment_id:
        return original
    twin = batching.Outcome(segment_id, text=original.text, error=original.error)
    twin.host, twin.digest = original.host, original.digest
    twin.flags = [
        *original.flags,
        {
            "kind": "same_request",
            "message": f"same text and context as segment {original.segment_id}: answered once",
        },
    ]
    return twin


def store(session: Session, run: TranslationRun, outcomes: Sequence[batching.Outcome]) -> None:
    """Upsert every outcome in one statement and settle the run's items."""
    if not outcomes:
        return
    texts = dict(
        session.execute(
            select(Segment.id, Segment.normalized).where(
                Segment.id.in_([o.segment_id for o in outcomes])
            )
        ).all()
    )
    rows = [_row(run, o, texts.get(o.segment_id, "")) for o in outcomes]
    if run.kind is RunKind.CORRECT:
        _upsert(session, Correction, [_as_correction(r) for r in rows], protect=False)
    else:
        # A comparison never replaces the translation a segment shows: where the document
        # already has this model's translation, the comparison shows that one.
        compare = run.purpose is RunPurpose.COMPARE
        _upsert(session, Translation, rows, protect=True, only_comparisons=compare)
    _settle(
        session,
        run.id,
        {
            o.segment_id: (ItemStatus.DONE, "")
            if o.text is not None
            else (ItemStatus.FAILED, o.error or "")
            for o in outcomes
        },
    )


KEY_COLUMNS = ("segment_id", "backend", "model")


def _upsert(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    protect: bool,
    only_comparisons: bool = False,
) -> None:
    # One compiled statement, run as executemany: compiling a multi-row VALUES per batch
    # would cost more than the database work.
    statement = _upsert_statement(table, tuple(rows[0]), protect, only_comparisons)
    session.connection().execute(statement, rows)


@lru_cache(maxsize=8)
def _upsert_statement(
    table: Any, columns: tuple[str, ...], protect: bool, only_comparisons: bool
) -> Any:
    core = cast(Table, table.__table__)
    statement = insert(core)
    conditions = [core.c.status != s.value for s in PROTECTED] if protect else []
    # A failure never replaces a translation that worked: a re-translation whose model is
    # gone leaves the text the segment had (its run item says why it failed).
    if "status" in columns:
        failed = TranslationStatus.FAILED.value
        conditions.append(or_(statement.excluded.status != failed, core.c.status == failed))
    if only_comparisons:
        conditions.append(core.c.run_id.in_(comparison_runs()))
    return statement.on_conflict_do_update(
        index_elements=list(KEY_COLUMNS),
        set_={k: statement.excluded[k] for k in columns if k not in KEY_COLUMNS}
        | {"updated_at": func.now()},
        where=and_(*conditions) if conditions else None,
    )


def _doubted(outcome: batching.Outcome) -> bool:
    """Whether a check still flags the answer: it is stored for review, never reused."""
    return any(is_doubt(flag) for flag in outcome.flags)


def _status(outcome: batching.Outcome) -> TranslationStatus:
    if outcome.text is None:
        return TranslationStatus.FAILED
    return TranslationStatus.NEEDS_CHECK if _doubted(outcome) else TranslationStatus.MACHINE


def _row(run: TranslationRun, outcome: batching.Outcome, source: str) -> dict[str, Any]:
    ok = outcome.text is not None
    return {
        "segment_id": outcome.segment_id,
        "document_id": run.document_id,
        "backend": run.backend,
        "model": run.model,
        "text": storable(outcome.text or ""),
        "status": _status(outcome).value,
        "error": None if ok else storable(outcome.error or "The model gave no answer."),
        "source_hash": source_hash(source),
        "model_digest": outcome.digest or run.model_digest,
        "host": outcome.host,
        "prompt_version": run.prompt_version or PROMPT_VERSION,
        "tokens_in": outcome.tokens_in,
        "tokens_out": outcome.tokens_out,
        "duration_ms": outcome.duration_ms,
        "generation_ms": outcome.generation_ms,
        "tokens_per_s": outcome.tokens_per_s,
        "attempts": outcome.attempts,
        "fallbacks": outcome.fallbacks,
        "flags": outcome.flags,
        "run_id": run.id,
        "memory_id": outcome.memory_id,
    }


def _as_correction(row: dict[str, Any]) -> dict[str, Any]:
    status = row.pop("status")
    row.pop("memory_id")
    return row | {"failed": status == TranslationStatus.FAILED}


_ITEMS = cast(Table, RunItem.__table__)
_SETTLE = (
    update(_ITEMS)
    .where(_ITEMS.c.run_id == bindparam("r"), _ITEMS.c.segment_id == bindparam("s"))
    .values(status=bindparam("status"), note=bindparam("note"))
)


def settle(session: Session, run_id: int, settled: dict[int, tuple[ItemStatus, str]]) -> None:
    """Record the outcome of run items decided without a model (done before, kept, gone)."""
    _settle(session, run_id, settled)


def _settle(session: Session, run_id: int, settled: dict[int, tuple[ItemStatus, str]]) -> None:
    session.flush()
    if settled:
        session.execute(
            _SETTLE,
            [
                {"r": run_id, "s": seg_id, "status": status.value, "note": note or None}
                for seg_id, (status, note) in settled.items()
            ],
        )


def record_failure(
    session: Session, run: TranslationRun, segment_ids: Sequence[int], reason: str
) -> None:
    """Fail the batch's unfinished segments with the reason (permanent error, retries spent)."""
    work = pending(session, run, segment_ids)
    still = set(
        session.scalars(
            select(RunItem.segment_id).where(
                RunItem.run_id == run.id,
                RunItem.segment_id.in_(list(segment_ids)),
                RunItem.status == ItemStatus.PENDING,
            )
        )
    )
    failed = [
        batching.Outcome(u.segment_id, error=reason) for u in work.units if u.segment_id in still
    ]
    store(session, run, failed)
    _settle(session, run.id, {k: v for k, v in work.settled.items() if k in still})
