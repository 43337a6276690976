"""Re-sending work that stopped moving: the jobs and runs tables are the truth, not the broker.

A step can be lost between the database and the broker: Redis restarted and forgot its
queues, a worker was killed while it held messages (Redis hands them out again only after
an hour), or a worker died between committing a step and sending the next. Every minute
the reconciler looks at documents and runs whose progress has not changed for a while,
works out from the database which steps they still need, and re-sends those that are
neither in the broker nor running (a running step holds its advisory lock, see `claims`).
Steps are idempotent, so a step sent twice by a race costs a no-op, never a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import and_, func, not_, select
from sqlalchemy.orm import Session

from service.documents.models import Document, DocumentStatus, OcrStatus, Page
from service.imports import fetching
from service.jobs import broker, claims
from service.jobs import service as jobs
from service.jobs.models import Job, JobStage
from service.jobs.steps import Step, TaskName
from service.transcription import proposals
from service.translation import runs
from service.translation.models import RunKind, RunPurpose, RunStatus, TranslationRun

log = logging.getLogger(__name__)

ACTIVE = (DocumentStatus.PENDING, DocumentStatus.PROCESSING)


def reconcile(
    session: Session,
    peek: Callable[[], Sequence[broker.Held]],
    now: float,
    stall_after_s: float,
) -> list[Step]:
    """Steps of stalled work that the broker no longer holds and nobody is running."""
    cutoff = datetime.fromtimestamp(now - stall_after_s, UTC)
    needed = stalled_steps(session, cutoff)
    if not needed:
        return []
    busy = claims.running_keys(session) | broker.still_coming(list(peek()), now, stall_after_s)
    lost = [step for step in needed if claims.step_key(step) not in busy]
    if lost:
        log.warning(
            "re-sending %d lost step(s): %s", len(lost), ", ".join(_label(s) for s in lost[:20])
        )
    return lost


def stalled_steps(session: Session, cutoff: datetime) -> list[Step]:
    """What documents and runs unchanged since the cutoff still need, from the database."""
    steps: list[Step] = []
    for document in _stalled_documents(session, cutoff):
        steps += document_steps(session, document)
    for run in _stalled_runs(session, cutoff):
        steps += run_steps(session, run)
    return steps + proposals.stalled(session, cutoff)


def _stalled_documents(session: Session, cutoff: datetime) -> Sequence[Document]:
    active = select(Document.id).where(Document.status.in_(ACTIVE))
    last = (
        select(Job.document_id, func.max(Job.updated_at).label("moved"))
        .where(Job.document_id.in_(active))
        .group_by(Job.document_id)
        .subquery()
    )
    return session.scalars(
        select(Document)
        .join(last, last.c.document_id == Document.id)
        .where(Document.status.in_(ACTIVE), last.c.moved < cutoff, Document.updated_at < cutoff)
        .order_by(Document.id)
    ).all()


def _stalled_runs(session: Session, cutoff: datetime) -> Sequence[TranslationRun]:
    """Runs that finish on their own (not a document's own translation, which its job drives)."""
    own = and_(
        TranslationRun.purpose == RunPurpose.DOCUMENT, TranslationRun.kind == RunKind.TRANSLATE
    )
    return session.scalars(
        select(TranslationRun)
        .where(
            TranslationRun.status.in_((RunStatus.PENDING, RunStatus.RUNNING)),
            TranslationRun.updated_at < cutoff,
            not_(own),
        )
        .order_by(TranslationRun.id)
    ).all()


def document_steps(session: Session, document: Document) -> list[Step]:
    """The steps a document in the pipeline needs next, from its jobs (as the steps decide)."""
    stages = {job.stage: job for job in jobs.for_document(session, document.id)}
    if len(stages) < len(JobStage):
        return []
    if stages[JobStage.INGEST].status not in jobs.TERMINAL:
        task = TaskName.FETCH_IIIF if fetching.pending(session, document.id) else None
        return [Step(task or TaskName.INGEST_DOCUMENT, (document.id,))]
    ocr = stages[JobStage.OCR]
    translating = (
        document.translate and ocr.done and stages[JobStage.TRANSLATE].status not in jobs.TERMINAL
    )  # pages are translated while the others are read
    if ocr.status not in jobs.TERMINAL:
        steps = [Step(TaskName.OCR_PAGE, (page_id,)) for page_id in _unread(session, document.id)]
        return steps + (_translation_steps(session, document.id) if translating else [])
    if translating:
        return _translation_steps(session, document.id)
    if stages[JobStage.FINALIZE].status not in jobs.TERMINAL:
        return [Step(TaskName.FINALIZE_DOCUMENT, (document.id,))]
    return []


def _unread(session: Session, document_id: int) -> Sequence[int]:
    return session.scalars(
        select(Page.id)
        .where(Page.document_id == document_id, Page.ocr_status == OcrStatus.PENDING)
        .order_by(Page.number)
    ).all()


def _translation_steps(session: Session, document_id: int) -> list[Step]:
    run = runs.primary(session, document_id)
    plan = [Step(TaskName.PLAN_TRANSLATION, (document_id,))]
    if run is None or run.status is RunStatus.PENDING:
        return plan
    batches = run_steps(session, run)
    # Pages read whose plan was lost (a worker died between OCR and translation), or the
    # plan after the last page that would have ended the run.
    return batches + (plan if not batches or runs.unplanned(session, run) else [])


def run_steps(session: Session, run: TranslationRun) -> list[Step]:
    """A pending run needs planning; a running one its unsettled batches."""
    if run.status is RunStatus.PENDING:
        return [Step(TaskName.PLAN_TRANSLATION_RUN, (run.id,))]
    if run.status is RunStatus.RUNNING:
        return [
            Step(TaskName.TRANSLATE_BATCH, (run.id, batch))
            for batch in runs.pending_batches(session, run)
        ]
    return []


def _label(step: Step) -> str:
    args = ",".join(str(a) if not isinstance(a, list) else f"[{len(a)} ids]" for a in step.args)
    return f"{step.task.value.removeprefix('palimpsest.')}({args})"
