"""Pipeline steps of translation runs: plan a run → translate each batch → finish the run.

A document's own run mirrors its progress into the document's TRANSLATE job and, when it
completes, starts FINALIZE; other runs (re-translations, comparisons, OCR correction)
finish on their own. Lock order is always the job first, then the run, so a redelivered
plan and a finishing batch cannot deadlock.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.documents import outcome
from service.documents.models import Document, OcrStatus, Page
from service.errors import InvalidInput, NotFound, PermanentError
from service.jobs import service as jobs
from service.jobs.context import Context
from service.jobs.models import Job, JobStage
from service.jobs.steps import Step, TaskName
from service.transcription import correction
from service.translation import backends, runs
from service.translation import service as translation
from service.translation.backends.base import ModelInfo
from service.translation.chunking import budget_for
from service.translation.models import RunKind, RunPurpose, RunStatus, TranslationRun
from service.translation.modes import choose_unit

if TYPE_CHECKING:
    from service.config import Settings

log = logging.getLogger(__name__)


def plan_translation(session: Session, ctx: Context, document_id: int) -> list[Step]:
    """Plan the document's own run page by page: sent after each page is read, it adds the
    pages read since the last plan and sends their batches (see `plan_pages`); once OCR is
    done it also starts a correction run when enabled."""
    document = session.get(Document, document_id)
    if document is None:
        return []
    job = jobs.get_locked(session, document_id, JobStage.TRANSLATE)
    if job.status in jobs.TERMINAL:  # stopped while pages were read: finalize after them
        done = ocr_finished(session, document_id)
        return [Step(TaskName.FINALIZE_DOCUMENT, (document_id,))] if done else []
    run = runs.primary(session, document_id) or runs.create(
        session, document, document_request(document)
    )
    run = _locked(session, run.id)
    if run.status is RunStatus.PENDING:
        failed = _resolve_model(session, ctx, run, job)
        if failed is not None:
            return failed
    if run.status is not RunStatus.RUNNING:
        return []
    batches = runs.plan_pages(session, run, _read_prefix(session, document_id))
    if run.total:
        jobs.start(job, total=run.total)
    steps = [Step(TaskName.TRANSLATE_BATCH, (run.id, batch)) for batch in batches]
    return (steps or after_batch(session, run.id)) + _correction(session, ctx, document)


def _resolve_model(
    session: Session, ctx: Context, run: TranslationRun, job: Job
) -> list[Step] | None:
    """Fix the run's model, budget and unit before its first page; the steps that record
    why the model cannot be used, or None when it can."""
    choice = backends.resolve(ctx.settings, run.requested_backend, run.requested_model)
    try:
        info = ctx.backend(choice).describe()
    except PermanentError as exc:
        return fail_plan(session, ctx.settings, run.id, exc.message, choice)
    budget = budget_for(info.context_tokens, ctx.settings.translation_token_budget, info.reasoning)
    runs.fix_model(run, choice, info, budget, choose_unit(ctx.settings, info))
    runs.start(run)
    _started(session, run, job, choice)
    return None


def _read_prefix(session: Session, document_id: int) -> int:
    """The last page before the first one still unread: a page is planned only when every
    page before it is read, so the previous sentences it is translated with (which may run
    on from the pages before) are the same as in a whole-document plan."""
    of_document = Page.document_id == document_id
    unread = session.scalar(
        select(func.min(Page.number)).where(of_document, Page.ocr_status == OcrStatus.PENDING)
    )
    if unread is not None:
        return int(unread) - 1
    return int(session.scalar(select(func.max(Page.number)).where(of_document)) or 0)


def _correction(session: Session, ctx: Context, document: Document) -> list[Step]:
    """The OCR correction run, started once every page is read (when enabled)."""
    if not ctx.settings.ocr_post_correction or not ocr_finished(session, document.id):
        return []
    if any(
        r.kind is RunKind.CORRECT and r.purpose is RunPurpose.DOCUMENT
        for r in runs.for_document(session, document.id)
    ):
        return []
    correction = runs.create(session, document, _correction_request(document))
    return [Step(TaskName.PLAN_TRANSLATION_RUN, (correction.id,))]


def ocr_finished(session: Session, document_id: int) -> bool:
    """Whether every page of the document has been read (or failed)."""
    pending = select(Page.id).where(
        Page.document_id == document_id, Page.ocr_status == OcrStatus.PENDING
    )
    return session.execute(pending.limit(1)).first() is None


def document_request(document: Document) -> runs.RunRequest:
    return runs.RunRequest(document.backend, document.model, purpose=RunPurpose.DOCUMENT)


def _correction_request(document: Document) -> runs.RunRequest:
    return runs.RunRequest(
        document.backend, document.model, kind=RunKind.CORRECT, purpose=RunPurpose.DOCUMENT
    )


def plan_run(session: Session, ctx: Context, run_id: int) -> list[Step]:
    """Plan a run requested through the API (re-translation, comparison, correction)."""
    run = runs.get(session, run_id)
    if run is None or run.status in runs.TERMINAL:
        return []
    job = job_of(session, run)
    run = _locked(session, run_id)
    return _plan(session, ctx, run, job)


def _plan(session: Session, ctx: Context, run: TranslationRun, job: Job | None) -> list[Step]:
    if run.with_images:
        return _plan_with_images(session, ctx, run)
    if run.status is RunStatus.RUNNING:  # a redelivered plan re-sends unsettled batches only
        batches = runs.pending_batches(session, run)
    else:
        choice = backends.resolve(ctx.settings, run.requested_backend, run.requested_model)
        try:
            info = ctx.backend(choice).describe()
        except PermanentError as exc:
            return fail_plan(session, ctx.settings, run.id, exc.message, choice)
        budget = budget_for(
            info.context_tokens, ctx.settings.translation_token_budget, info.reasoning
        )
        unit = choose_unit(ctx.settings, info)
        batches = runs.plan(session, run, choice, info, budget, unit)
        _started(session, run, job, choice)
    steps = [Step(TaskName.TRANSLATE_BATCH, (run.id, batch)) for batch in batches]
    return steps or after_batch(session, run.id)


def _plan_with_images(session: Session, ctx: Context, run: TranslationRun) -> list[Step]:
    """A correction run that shows a vision model each segment's image."""
    try:
        batches = correction.plan(session, ctx, run)
    except PermanentError as exc:
        return fail_plan(session, ctx.settings, run.id, exc.message, correction.choice(ctx, run))
    steps = [Step(TaskName.TRANSLATE_BATCH, (run.id, batch)) for batch in batches]
    return steps or after_batch(session, run.id)


def _started(
    session: Session, run: TranslationRun, job: Job | None, choice: backends.BackendChoice
) -> None:
    if job is None:
        return
    document = session.get(Document, run.document_id)
    if document is not None:
        document.backend, document.model = choice.backend.value, choice.model
    jobs.start(job, total=run.total)
    job.detail = run.detail


def translate_batch(
    session: Session, ctx: Context, run_id: int, segment_ids: list[int]
) -> list[Step]:
    """Answer one batch of a run; a permanent error fails that batch alone."""
    run = runs.get(session, run_id)
    if run is None or run.status in runs.TERMINAL or run.backend is None:
        return []
    choice = backends.BackendChoice(backends.BackendName(run.backend), run.model_ref or "")
    try:
        if run.with_images:
            correction.correct_batch(session, ctx, run, segment_ids)
            return after_batch(session, run_id)
        translation.translate_batch(
            session,
            run,
            segment_ids,
            ctx.backend(choice),
            ctx.settings.translation_context_segments,
        )
    except PermanentError as exc:
        return fail_batch(session, run_id, segment_ids, exc.message)
    return after_batch(session, run_id)


def fail_batch(session: Session, run_id: int, segment_ids: list[int], reason: str) -> list[Step]:
    """Record the batch's unsettled segments as failed with the reason."""
    run = runs.get(session, run_id)
    if run is None or run.status in runs.TERMINAL:
        return []
    translation.record_failure(session, run, segment_ids, reason)
    return after_batch(session, run_id, error=reason)


def fail_plan(
    session: Session,
    settings: Settings,
    run_id: int,
    reason: str,
    choice: backends.BackendChoice | None = None,
) -> list[Step]:
    """A run that cannot start: every segment fails with the reason, the user sees why."""
    run = runs.get(session, run_id)
    if run is None or run.status in runs.TERMINAL:
        return []
    job = job_of(session, run)
    run = _locked(session, run_id)
    if run.status is RunStatus.PENDING:
        choice = choice or backends.resolve(
            settings, run.requested_backend or "embedded", run.requested_model
        )
        info = ModelInfo(backends.stored_name(choice), None, settings.ollama_num_ctx)
        runs.plan(session, run, choice, info, settings.translation_token_budget)
        _started(session, run, job, choice)
    translation.record_failure(session, run, [s.id for s in runs.segments(session, run)], reason)
    return after_batch(session, run_id, error=reason)


def fail_document_plan(
    session: Session, settings: Settings, document_id: int, reason: str
) -> list[Step]:
    """Give up planning a document's translation (its model server stayed unreachable)."""
    document = session.get(Document, document_id)
    if document is None:
        return []
    run = runs.primary(session, document_id) or runs.create(
        session, document, document_request(document)
    )
    return fail_plan(session, settings, run.id, reason)


def after_batch(session: Session, run_id: int, error: str | None = None) -> list[Step]:
    """Count the run's progress under its lock; the last batch finishes it (a document's
    own run only once OCR has ended and every page is planned)."""
    run = runs.get(session, run_id)
    if run is None:
        return []
    job = job_of(session, run)
    run = _locked(session, run_id)
    if error:
        run.error = error
    planned = job is None or (
        ocr_finished(session, run.document_id) and not runs.unplanned(session, run)
    )
    complete = runs.record_progress(session, run, planned)
    if complete and run.purpose is RunPurpose.TRANSCRIPTION:
        _settle_document(session, run.document_id)
    if job is None:
        return []
    if run.error:
        job.error = run.error
    if not planned:  # more pages to come: show the counts, finish nothing yet
        jobs.count(job, run.done + run.skipped, run.failed)
        return []
    if jobs.record_progress(job, run.done + run.skipped, run.failed):
        if job.total == 0:
            jobs.skip(job, NOTHING_TO_TRANSLATE)
        return [Step(TaskName.FINALIZE_DOCUMENT, (run.document_id,))]
    if complete:
        log.info("run %s finished after its job %s", run.id, job.status)
    return []


def cancel_run(session: Session, run_id: int, who: str) -> list[Step]:
    """Cancel a run; a document's own run takes its TRANSLATE stage along, and the document
    is finished with what it has."""
    run = runs.get(session, run_id)
    if run is None:
        raise NotFound(f"Translation run {run_id} does not exist.")
    job = job_of(session, run)
    run = _locked(session, run_id)
    runs.cancel(session, run, who)
    return _stop_job(job, run.error or "Cancelled.", run.document_id)


def cancel_document_translation(session: Session, document_id: int, who: str) -> list[Step]:
    """Cancel a document's own translation, also before its run could be planned (its
    model server not answering)."""
    job = jobs.get_locked(session, document_id, JobStage.TRANSLATE)
    run = runs.primary(session, document_id)
    if run is not None and run.status not in runs.TERMINAL:
        return cancel_run(session, run.id, who)
    if job.status in jobs.TERMINAL:
        raise InvalidInput(f"The translation of document {document_id} is not running.")
    return _stop_job(job, f"Cancelled by {who}.", document_id)


def _stop_job(job: Job | None, reason: str, document_id: int) -> list[Step]:
    if job is None or job.status in jobs.TERMINAL:
        return []
    jobs.finish(job, error=f"Translation stopped: {reason}")
    return [Step(TaskName.FINALIZE_DOCUMENT, (document_id,))]


NOTHING_TO_TRANSLATE = (
    "nothing to translate: the OCR found no readable text (pages typed by hand are "
    "translated as their regions are saved)"
)


def _settle_document(session: Session, document_id: int) -> None:
    """A finished document's status counts the typed regions' translations too."""
    document = session.get(Document, document_id)
    if document is not None:
        outcome.settle_outcome(session, document)


def job_of(session: Session, run: TranslationRun) -> Job | None:
    """The TRANSLATE job this run drives, locked; None for runs outside the pipeline."""
    if run.purpose is not RunPurpose.DOCUMENT or run.kind is not RunKind.TRANSLATE:
        return None
    return jobs.get_locked(session, run.document_id, JobStage.TRANSLATE)


def _locked(session: Session, run_id: int) -> TranslationRun:
    run = session.get(TranslationRun, run_id, with_for_update=True, populate_existing=True)
    if run is None:
        raise LookupError(f"translation run {run_id} vanished")
    return run
