"""The pipeline's steps: ingest → OCR each page → plan batches → translate each → finalize.

Each step loads by id, guards against work already done, does its work through the domain
services and returns the steps to run next. Celery tasks and the synchronous CLI runner
both execute these same functions; the caller commits, then enqueues what was returned.
Fan-in is decided in the database: the row of the stage's job is locked while its
progress is counted, so exactly one finishing task advances the document.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.config import get_settings
from service.documents import outcome
from service.documents import service as documents
from service.documents.files import configure_pixel_limit
from service.documents.models import Document, DocumentStatus, OcrStatus, Page
from service.errors import InvalidInput
from service.imports import fetching
from service.imports import service as imports
from service.jobs import attempts, broker, claims, reconcile, translate_steps
from service.jobs import service as jobs
from service.jobs.context import Context
from service.jobs.models import Job, JobStage, JobStatus
from service.jobs.steps import Step, TaskName
from service.ocr import service as ocr
from service.storage import open_storage
from service.transcription import proposals
from service.transcription import steps as transcription_steps
from service.translation import runs

log = logging.getLogger(__name__)


@lru_cache
def default_context() -> Context:
    """The process-wide context from settings."""
    settings = get_settings()
    configure_pixel_limit(settings.max_image_pixels)
    return Context(settings=settings, storage=open_storage(settings))


def start(document_id: int) -> list[Step]:
    """The first step of a new document (imported ones too: their ingest decodes the images
    and makes the pages from the transcriptions, then OCR is skipped)."""
    return [Step(TaskName.INGEST_DOCUMENT, (document_id,))]


def start_iiif(document_id: int) -> list[Step]:
    """The first step of a IIIF import: fetch its manifest (unless uploaded) and images."""
    return [Step(TaskName.FETCH_IIIF, (document_id,))]


def fetch_iiif(session: Session, ctx: Context, document_id: int) -> list[Step]:
    """Fetch one thing a IIIF import still needs (its manifest, or its next image); then
    the same step again, and ingest once everything is fetched."""
    document = session.get(Document, document_id)
    if document is None:
        log.info("document %s is gone; nothing to fetch", document_id)
        return []
    job = jobs.get_locked(session, document_id, JobStage.INGEST)
    if job.status in jobs.TERMINAL:
        return []
    outcome.mark_processing(document)
    progress = fetching.fetch_next(session, ctx.storage, ctx.settings, document, job)
    if progress is fetching.Progress.MORE:
        return start_iiif(document_id)
    if progress is fetching.Progress.DONE:
        return start(document_id)
    return []


def ingest_document(session: Session, ctx: Context, document_id: int) -> list[Step]:
    """Count pages of every file and create page rows; then OCR every pending page."""
    document = session.get(Document, document_id)
    if document is None:
        log.info("document %s is gone; nothing to ingest", document_id)
        return []
    job = jobs.get_locked(session, document_id, JobStage.INGEST)
    if job.status not in jobs.TERMINAL:
        outcome.mark_processing(document)
        jobs.start(job, total=len(document.files))
        imported = imports.is_import(document)
        limits = documents.IngestLimits.from_settings(ctx.settings)
        read = imports.ingest if imported else documents.ingest
        pages = read(session, document, ctx.storage, limits)
        failed = sum(1 for f in document.files if f.error)
        jobs.record_progress(job, done=len(document.files) - failed, failed=failed)
        ocr_job = jobs.get_locked(session, document_id, JobStage.OCR)
        jobs.start(
            ocr_job, total=len(pages), detail=imports.ocr_detail(pages) if imported else None
        )
        if not pages:
            jobs.finish(ocr_job, error="No page could be read from the upload.")
            return [Step(TaskName.FINALIZE_DOCUMENT, (document_id,))]
    # A redelivered ingest re-sends only pages still unread; ocr_page guards each one.
    page_ids = session.scalars(
        select(Page.id)
        .where(Page.document_id == document_id, Page.ocr_status == OcrStatus.PENDING)
        .order_by(Page.number)
    ).all()
    if not page_ids:  # imported pages come read: on to translation (once)
        return _after_ocr(session, document_id)
    return [Step(TaskName.OCR_PAGE, (page_id,)) for page_id in page_ids]


def ocr_page(session: Session, ctx: Context, page_id: int) -> list[Step]:
    """Read one page (skipped when already read), then check whether OCR is complete."""
    # The row lock makes a duplicate delivery wait, then find the page already read.
    page = session.get(Page, page_id, with_for_update=True)
    if page is None:
        log.info("page %s is gone; nothing to read", page_id)
        return []
    if page.ocr_status is OcrStatus.PENDING:
        settings = ocr.OcrSettings(ctx.settings.ocr_dpi, ctx.settings.low_confidence)
        ocr.read_page(session, page, ctx.storage, ctx.engine(), settings)
    return _after_ocr(session, page.document_id)


def fail_page(session: Session, page_id: int, reason: str) -> list[Step]:
    """Give up on a page after transient errors persisted."""
    page = session.get(Page, page_id)
    if page is None:
        return []
    if page.ocr_status is OcrStatus.PENDING:
        ocr.mark_failed(page, reason)
    return _after_ocr(session, page.document_id)


def _after_ocr(session: Session, document_id: int) -> list[Step]:
    """Count OCR's progress; each page read moves translation on (it plans the pages read
    so far, see `translate_steps.plan_translation`), and the last one ends the stage."""
    job = jobs.get_locked(session, document_id, JobStage.OCR)
    counts = _count_by(session, Page.ocr_status, Page.document_id == document_id)
    done, failed = _read(counts), counts.get(OcrStatus.FAILED, 0)
    finished = jobs.record_progress(job, done, failed)
    document = session.get(Document, document_id)
    translating = document is not None and document.translate and done > 0
    if finished:
        task = TaskName.PLAN_TRANSLATION if translating else TaskName.FINALIZE_DOCUMENT
        return [Step(task, (document_id,))]
    if translating and not _waiting_for_model(session, document_id):
        return [Step(TaskName.PLAN_TRANSLATION, (document_id,))]
    return []


def _waiting_for_model(session: Session, document_id: int) -> bool:
    """A plan already retrying for its model server plans every page read by then; more
    plans would only pile up behind it (the one sent when OCR ends catches up)."""
    waiting = session.scalar(
        select(Job.waiting).where(Job.document_id == document_id, Job.stage == JobStage.TRANSLATE)
    )
    return waiting is not None


def _read(counts: dict[Any, int]) -> int:
    # A page that needs manual transcription was read: its status says what to do next.
    return sum(counts.get(status, 0) for status in outcome.READ_STATUSES)


def _count_by(session: Session, column: Any, *where: Any) -> dict[Any, int]:
    rows = session.execute(select(column, func.count()).where(*where).group_by(column))
    return {key: int(n) for key, n in rows}


def finalize_document(session: Session, _ctx: Context, document_id: int) -> list[Step]:
    """Set the document's final status from its pages and translations."""
    document = session.get(Document, document_id)
    if document is None:
        return []
    job = jobs.get_locked(session, document_id, JobStage.FINALIZE)
    if job.status in jobs.TERMINAL:
        return []
    if not translate_steps.ocr_finished(session, document_id):
        # Translation stopped (cancelled) while pages are still read: the last page read
        # sends this step again.
        log.info("document %s: pages still being read; finalizing after them", document_id)
        return []
    stopped = [
        j.error.rstrip(".")
        for j in jobs.for_document(session, document_id)
        if j.stage is JobStage.TRANSLATE and j.status is JobStatus.FAILED and j.error
    ]  # cancelled, or could not start
    document.status, document.error = outcome.outcome(session, document_id, stopped)
    jobs.start(job, total=1)
    jobs.record_progress(job, done=1, failed=0)
    return []


def retry(session: Session, document_id: int) -> list[Step]:
    """Re-run what failed in a finished document: unread pages, then untranslated segments."""
    document = documents.get_or_raise(session, document_id)
    if document.status not in (DocumentStatus.PARTIAL, DocumentStatus.FAILED):
        raise InvalidInput("Only a finished document with failures can be retried.")
    failed = [p for p in document.pages if p.ocr_status is OcrStatus.FAILED]
    for page in failed:
        page.ocr_status, page.ocr_error = OcrStatus.PENDING, None
    if failed:
        jobs.reopen(jobs.get_locked(session, document_id, JobStage.OCR), JobStatus.RUNNING)
    if document.translate:
        jobs.reopen(jobs.get_locked(session, document_id, JobStage.TRANSLATE), JobStatus.PENDING)
        # A new run of the document's own: segments already translated come from memory.
        runs.create(session, document, translate_steps.document_request(document))
    jobs.reopen(jobs.get_locked(session, document_id, JobStage.FINALIZE), JobStatus.PENDING)
    document.status, document.error = DocumentStatus.PROCESSING, None
    if failed:
        return [Step(TaskName.OCR_PAGE, (p.id,)) for p in failed]
    task = TaskName.PLAN_TRANSLATION if document.translate else TaskName.FINALIZE_DOCUMENT
    return [Step(task, (document_id,))]


def reconcile_stalled(session: Session, ctx: Context) -> list[Step]:
    """Re-send the steps of stalled documents and runs that the broker lost."""
    client = redis.Redis.from_url(
        str(ctx.settings.redis_url), socket_timeout=10, socket_connect_timeout=5
    )
    try:
        lost = reconcile.reconcile(
            session,
            lambda: broker.held_steps(client),
            time.time(),
            ctx.settings.reconcile_stall_s,
        )
    finally:
        client.close()
    resend, doomed = attempts.triage(session, lost)
    for step, reason in doomed:  # sent again and again, failing (or dying) every time
        resend += give_up(session, step, reason)
    return resend


MODEL_STEPS = (TaskName.PLAN_TRANSLATION, TaskName.PLAN_TRANSLATION_RUN, TaskName.TRANSLATE_BATCH)


def note_waiting(session: Session, step: Step, reason: str) -> float:
    """Show on the stage, and on the run, that they wait for the model server (the step
    retries by itself); return for how many seconds they have been waiting."""
    if step.task is TaskName.TRANSCRIBE_REGION:
        proposals.wait(session, step.args[0], reason)
        return 0.0
    if step.task not in MODEL_STEPS:
        return 0.0
    job: Job | None
    since: list[datetime] = []
    if step.task is TaskName.PLAN_TRANSLATION:
        job = jobs.get_locked(session, step.args[0], JobStage.TRANSLATE)
    else:
        run = runs.get(session, step.args[0])
        job = translate_steps.job_of(session, run) if run is not None else None
        if run is not None and run.status not in runs.TERMINAL:
            runs.wait(run, reason)
            since.append(run.waiting_since or datetime.now(UTC))
    if job is not None and job.status not in jobs.TERMINAL:
        jobs.wait(job, reason)
        since.append(job.waiting_since or datetime.now(UTC))
    return (datetime.now(UTC) - min(since)).total_seconds() if since else 0.0


def waited_too_long(reason: str, limit_s: float) -> str:
    """The reason a translation gives up with after waiting `limit_s` for its model."""
    minutes = max(1, round(limit_s / 60))
    return (
        f"{reason.rstrip('.')}. Gave up after waiting {minutes} min for it "
        "(PALIMPSEST_MODEL_WAIT_LIMIT_S); start the model server and use Retry."
    )


RUNNERS: dict[TaskName, Callable[..., list[Step]]] = {
    TaskName.FETCH_IIIF: fetch_iiif,
    TaskName.INGEST_DOCUMENT: ingest_document,
    TaskName.OCR_PAGE: ocr_page,
    TaskName.PLAN_TRANSLATION: translate_steps.plan_translation,
    TaskName.PLAN_TRANSLATION_RUN: translate_steps.plan_run,
    TaskName.TRANSLATE_BATCH: translate_steps.translate_batch,
    TaskName.FINALIZE_DOCUMENT: finalize_document,
    TaskName.RECONCILE: reconcile_stalled,
    TaskName.DETECT_LINES: transcription_steps.detect_lines,
    TaskName.TRANSCRIBE_REGION: proposals.transcribe_region,
}


def run(session: Session, ctx: Context, step: Step) -> list[Step]:
    """Execute one step in the caller's unit of work, unless the same step runs elsewhere."""
    if not claims.claim(session, step):
        # A second delivery (redelivered, or re-sent by the reconciler) of a step that is
        # still running: the first one finishes it and sends what follows.
        log.info("%s%s is running in another worker; leaving it there", step.task, step.args)
        return []
    next_steps = RUNNERS[step.task](session, ctx, *step.args)
    if step.task is not TaskName.RECONCILE:
        attempts.forget(session, step)  # a retry of it later starts counting afresh
    return next_steps


def give_up(session: Session, step: Step, reason: str) -> list[Step]:
    """Record a step's final failure after its retries ran out, and move the document on."""
    log.warning("giving up on %s%s: %s", step.task, step.args, reason)
    if step.task is TaskName.RECONCILE:
        return []  # the next one runs within a minute
    if step.task is TaskName.OCR_PAGE:
        return fail_page(session, step.args[0], reason)
    if step.task is TaskName.TRANSCRIBE_REGION:
        return proposals.fail(session, step.args[0], reason)
    if step.task is TaskName.DETECT_LINES:
        return []  # asked again when the editor opens the page
    if step.task is TaskName.TRANSLATE_BATCH:
        return translate_steps.fail_batch(session, step.args[0], step.args[1], reason)
    if step.task is TaskName.PLAN_TRANSLATION_RUN:
        return translate_steps.fail_plan(session, default_context().settings, step.args[0], reason)
    if step.task is TaskName.PLAN_TRANSLATION:
        settings = default_context().settings
        return translate_steps.fail_document_plan(session, settings, step.args[0], reason)
    document = session.get(Document, step.args[0])
    if document is not None:
        document.status = DocumentStatus.FAILED
        document.error = reason
        if step.task is TaskName.INGEST_DOCUMENT:
            jobs.finish(jobs.get_locked(session, document.id, JobStage.INGEST), error=reason)
    return []
