"""Translation runs: one model over a set of a document's segments, with its own progress.

A document's pipeline has one run (purpose `document`, mirrored into its TRANSLATE job);
re-translations and model comparisons add more. A run's segments are its items, created
when it is planned with their batch number; batches settle their items, and the task that
settles the last one (counted under a row lock on the run) finishes the run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from service.accounts import access
from service.documents.models import Document, Page, Segment, SegmentKind, translatable
from service.errors import InvalidInput, NotFound
from service.translation.backends import BackendChoice, BackendName, stored_name
from service.translation.backends.base import ModelInfo, Unit
from service.translation.chunking import SegmentText, plan_batches
from service.translation.models import (
    ItemStatus,
    RunItem,
    RunKind,
    RunPurpose,
    RunStatus,
    Translation,
    TranslationRun,
)
from service.translation.prompts import PROMPT_VERSION
from service.translation.shown import sql_translation_stale

TERMINAL = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)
BACKENDS = tuple(b.value for b in BackendName)


@dataclass(frozen=True)
class RunRequest:
    """What a user asks for: which model, over which segments."""

    backend: str | None = None
    model: str | None = None
    page_from: int | None = None
    page_to: int | None = None
    segment_ids: list[int] | None = None
    force: bool = False
    kind: RunKind = RunKind.TRANSLATE
    purpose: RunPurpose = RunPurpose.RETRANSLATE
    with_images: bool = False


def create(session: Session, document: Document, request: RunRequest) -> TranslationRun:
    """A pending run; the worker resolves its model and plans it."""
    backend = (request.backend or "").strip() or None
    if backend == "auto":
        backend = None
    if backend is not None and backend not in BACKENDS:
        raise InvalidInput(
            f"Unknown backend {backend!r}; choose one of auto, {', '.join(BACKENDS)}."
        )
    if request.page_from and request.page_to and request.page_from > request.page_to:
        raise InvalidInput("The page range ends before it starts.")
    if request.with_images and (request.kind is not RunKind.CORRECT or backend == "embedded"):
        raise InvalidInput(
            "Images go to a vision model correcting OCR: use kind `correct` with backend "
            "ollama or openai (or leave it empty for PALIMPSEST_VISION_BACKEND)."
        )
    run = TranslationRun(
        document_id=document.id,
        kind=request.kind,
        purpose=request.purpose,
        status=RunStatus.PENDING,
        requested_backend=backend,
        requested_model=(request.model or "").strip() or None,
        page_from=request.page_from,
        page_to=request.page_to,
        segment_ids=request.segment_ids,
        force=request.force,
        with_images=request.with_images,
    )
    session.add(run)
    session.flush()
    return run


def get(session: Session, run_id: int, lock: bool = False) -> TranslationRun | None:
    """A run, locked FOR UPDATE when counting its progress."""
    return session.get(TranslationRun, run_id, with_for_update=lock)


def get_or_raise(session: Session, run_id: int) -> TranslationRun:
    """A run of a document the current user may see, or NotFound (as every other route)."""
    run = get(session, run_id)
    collection_id = (
        session.scalar(select(Document.collection_id).where(Document.id == run.document_id))
        if run is not None
        else None
    )
    if run is None or not access.may_see(collection_id):
        raise NotFound(f"Translation run {run_id} does not exist.")
    return run


def for_document(session: Session, document_id: int) -> list[TranslationRun]:
    """A document's runs, oldest first."""
    return list(
        session.scalars(
            select(TranslationRun)
            .where(TranslationRun.document_id == document_id)
            .order_by(TranslationRun.id)
        )
    )


def primary(session: Session, document_id: int) -> TranslationRun | None:
    """The run that belongs to the document's own pipeline, if planned."""
    return session.scalars(
        select(TranslationRun)
        .where(
            TranslationRun.document_id == document_id,
            TranslationRun.purpose == RunPurpose.DOCUMENT,
            TranslationRun.kind == RunKind.TRANSLATE,
        )
        .order_by(TranslationRun.id.desc())
        .limit(1)
    ).one_or_none()


def segments(
    session: Session, run: TranslationRun, after_page: int | None = None
) -> list[SegmentText]:
    """The run's prose segments in reading order (those after a page number when given)."""
    rows = session.execute(_in_scope(run, after_page))
    return [SegmentText(row.id, row.normalized) for row in rows]


def _in_scope(run: TranslationRun, after_page: int | None = None) -> Any:
    query = (
        select(Segment.id, Segment.normalized, Page.number)
        .join(Page, Page.id == Segment.page_id)
        .where(Segment.document_id == run.document_id, translatable())
        .order_by(Page.number, Segment.position)
    )
    if run.kind is RunKind.CORRECT:  # text typed by hand has no OCR errors to correct
        query = query.where(Segment.kind != SegmentKind.MANUAL)
    if run.page_from is not None:
        query = query.where(Page.number >= run.page_from)
    if run.page_to is not None:
        query = query.where(Page.number <= run.page_to)
    if run.segment_ids is not None:
        query = query.where(Segment.id.in_(run.segment_ids))
    if after_page is not None:
        query = query.where(Page.number > after_page)
    return query


def plan(
    session: Session,
    run: TranslationRun,
    choice: BackendChoice,
    info: ModelInfo,
    budget: int,
    unit: Unit = Unit.SEGMENT,
) -> list[list[int]]:
    """Fix the run's model and prompting unit, split its segments into batches and create
    its items."""
    fix_model(run, choice, info, budget, unit)
    batches = plan_batches(segments(session, run), budget)
    _add_items(session, run, batches)
    start(run)
    session.flush()
    return batches


def fix_model(
    run: TranslationRun,
    choice: BackendChoice,
    info: ModelInfo,
    budget: int,
    unit: Unit = Unit.SEGMENT,
) -> None:
    """Settle which model, prompt, budget and unit the run uses (once, before any item)."""
    run.backend, run.model = choice.backend.value, stored_name(choice)
    run.model_ref, run.model_digest = choice.model, info.digest
    run.prompt_version, run.budget, run.unit = PROMPT_VERSION, budget, unit.value
    run.detail = "; ".join(d for d in (choice.reason, info.detail) if d) or None


def planned_through(session: Session, run: TranslationRun) -> int:
    """The last page number with segments planned in the run (0 before any)."""
    last = session.scalar(
        select(func.max(Page.number))
        .select_from(RunItem)
        .join(Segment, Segment.id == RunItem.segment_id)
        .join(Page, Page.id == Segment.page_id)
        .where(RunItem.run_id == run.id)
    )
    return int(last or 0)


def plan_pages(session: Session, run: TranslationRun, through: int) -> list[list[int]]:
    """Add to a running run the segments of the pages after those it planned, up to page
    `through`: each page's batches apart, so no batch waits for a page not yet read.
    Idempotent: a second call finds those pages planned and adds nothing."""
    after = planned_through(session, run)
    if through <= after:
        return []
    by_page: dict[int, list[SegmentText]] = defaultdict(list)
    for row in session.execute(_in_scope(run, after).where(Page.number <= through)):
        by_page[row.number].append(SegmentText(row.id, row.normalized))
    batches = [b for n in sorted(by_page) for b in plan_batches(by_page[n], run.budget or 1)]
    _add_items(session, run, batches)
    session.flush()
    return batches


def unplanned(session: Session, run: TranslationRun) -> bool:
    """Whether prose exists on pages after the last one the run planned."""
    after = planned_through(session, run)
    return session.execute(_in_scope(run, after).limit(1)).first() is not None


def _add_items(session: Session, run: TranslationRun, batches: list[list[int]]) -> None:
    """Items for the batches, numbered on from the run's existing ones."""
    last_batch = select(func.coalesce(func.max(RunItem.batch), -1)).where(RunItem.run_id == run.id)
    first_batch, first_ordinal = int(session.scalar(last_batch) or 0) + 1, run.total or 0
    rows = [
        {
            "run_id": run.id,
            "segment_id": seg_id,
            "ordinal": first_ordinal + n,
            "batch": first_batch + b,
            "status": ItemStatus.PENDING,
        }
        for n, (b, seg_id) in enumerate((b, s) for b, batch in enumerate(batches) for s in batch)
    ]
    if rows:
        session.execute(insert(RunItem), rows)
    run.total = first_ordinal + len(rows)


def start(run: TranslationRun) -> None:
    """Mark a run running."""
    run.status = RunStatus.RUNNING
    run.started_at = run.started_at or datetime.now(UTC)


def pending_batches(session: Session, run: TranslationRun) -> list[list[int]]:
    """Batches that still have unsettled segments (a redelivered plan re-sends only these)."""
    rows = session.execute(
        select(RunItem.batch, RunItem.segment_id)
        .where(RunItem.run_id == run.id, RunItem.status == ItemStatus.PENDING)
        .order_by(RunItem.ordinal)
    )
    batches: dict[int, list[int]] = defaultdict(list)
    for batch, seg_id in rows:
        batches[batch].append(seg_id)
    return [batches[b] for b in sorted(batches)]


def record_progress(session: Session, run: TranslationRun, planned: bool = True) -> bool:
    """Count the run's items; True exactly once, when the last one settles after the run
    was planned in full (a document's own run grows page by page while OCR reads)."""
    counts = dict(
        session.execute(
            select(RunItem.status, func.count())
            .where(RunItem.run_id == run.id)
            .group_by(RunItem.status)
        ).all()
    )
    run.done = counts.get(ItemStatus.DONE, 0)
    run.failed = counts.get(ItemStatus.FAILED, 0)
    run.skipped = counts.get(ItemStatus.SKIPPED, 0)
    run.waiting, run.waiting_since = None, None
    if run.status is not RunStatus.RUNNING or counts.get(ItemStatus.PENDING, 0) or not planned:
        return False
    finish(run)
    return True


def wait(run: TranslationRun, reason: str) -> None:
    """Mark a run as held up by its model server (its steps retry by themselves)."""
    run.waiting = reason
    run.waiting_since = run.waiting_since or datetime.now(UTC)


def finish(run: TranslationRun, error: str | None = None) -> None:
    """Close a run: failed when nothing in it succeeded or it could not start."""
    nothing = run.total > 0 and run.done + run.skipped == 0
    run.status = RunStatus.FAILED if error or nothing else RunStatus.DONE
    run.waiting, run.waiting_since = None, None
    if error:
        run.error = error
    run.finished_at = datetime.now(UTC)


def cancel(session: Session, run: TranslationRun, who: str) -> None:
    """Stop a run: its unsettled segments are skipped, what it translated so far stays."""
    if run.status in TERMINAL:
        raise InvalidInput(f"Translation run {run.id} has already ended ({run.status.value}).")
    note = f"Cancelled by {who}."
    session.execute(
        update(RunItem)
        .where(RunItem.run_id == run.id, RunItem.status == ItemStatus.PENDING)
        .values(status=ItemStatus.SKIPPED, note=note)
    )
    record_progress(session, run)
    run.status, run.error = RunStatus.CANCELLED, note
    run.finished_at = datetime.now(UTC)
    session.flush()


def stale_segment_ids(session: Session, document_id: int) -> list[int]:
    """Segments whose translation was made from a source text that has changed since."""
    rows = session.execute(
        select(Segment.id)
        .join(Translation, Translation.segment_id == Segment.id)
        .where(
            Segment.document_id == document_id,
            sql_translation_stale(Translation.status, Translation.source_hash, Segment.normalized),
        )
    )
    return sorted(set(rows.scalars()))


def items(session: Session, run_id: int) -> Sequence[RunItem]:
    """A run's items in reading order."""
    return session.scalars(
        select(RunItem).where(RunItem.run_id == run_id).order_by(RunItem.ordinal)
    ).all()
