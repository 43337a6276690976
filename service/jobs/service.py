"""Queries and updates of the jobs table: one row per document and stage."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.jobs.models import Job, JobStage, JobStatus

TERMINAL = (JobStatus.DONE, JobStatus.FAILED, JobStatus.SKIPPED)


def create_for_document(session: Session, document_id: int, translate: bool) -> list[Job]:
    """Create the pending job rows of a new document."""
    jobs = [
        Job(
            document_id=document_id,
            stage=stage,
            status=JobStatus.SKIPPED
            if stage is JobStage.TRANSLATE and not translate
            else JobStatus.PENDING,
        )
        for stage in JobStage
    ]
    session.add_all(jobs)
    session.flush()
    return jobs


def get_locked(session: Session, document_id: int, stage: JobStage) -> Job:
    """Return the stage's job row locked FOR UPDATE, serialising fan-in checks."""
    return session.scalars(
        select(Job).where(Job.document_id == document_id, Job.stage == stage).with_for_update()
    ).one()


def for_document(session: Session, document_id: int) -> list[Job]:
    """Every job of a document in pipeline order."""
    jobs = session.scalars(select(Job).where(Job.document_id == document_id)).all()
    order = list(JobStage)
    return sorted(jobs, key=lambda j: order.index(j.stage))


def for_documents(session: Session, document_ids: list[int]) -> dict[int, dict[JobStage, Job]]:
    """Jobs of many documents at once, by document and stage (one query)."""
    found: dict[int, dict[JobStage, Job]] = {i: {} for i in document_ids}
    if document_ids:
        for job in session.scalars(select(Job).where(Job.document_id.in_(document_ids))):
            found[job.document_id][job.stage] = job
    return found


def start(job: Job, total: int, detail: str | None = None) -> None:
    """Mark a stage running with its amount of work."""
    if job.status is JobStatus.PENDING or job.started_at is None:
        job.started_at = datetime.now(UTC)
    job.status = JobStatus.RUNNING
    job.total = total
    if detail is not None:
        job.detail = detail


def wait(job: Job, reason: str) -> None:
    """Mark a stage as waiting for a service it needs (it retries by itself)."""
    job.waiting = reason
    job.waiting_since = job.waiting_since or datetime.now(UTC)


def count(job: Job, done: int, failed: int) -> None:
    """Update a running stage's counts while more work may still be added to it."""
    job.done, job.failed = done, failed
    job.waiting, job.waiting_since = None, None


def record_progress(job: Job, done: int, failed: int) -> bool:
    """Update counts; return True exactly once, when a running stage completes."""
    job.done, job.failed = done, failed
    job.waiting, job.waiting_since = None, None
    if job.status is not JobStatus.RUNNING or done + failed < job.total:
        return False
    finish(job, failed_all=job.total > 0 and done == 0)
    return True


def skip(job: Job, reason: str | None = None) -> None:
    """Close a stage that will not run or had nothing to do, saying why where it is not
    plain (not "done": nothing was done)."""
    job.status = JobStatus.SKIPPED
    job.finished_at = datetime.now(UTC)
    if reason:
        job.detail = reason


def reopen(job: Job, status: JobStatus) -> None:
    """Put a finished stage back to work (a retry), clearing its error."""
    job.status = status
    job.error = None
    job.finished_at = None


def finish(job: Job, failed_all: bool = False, error: str | None = None) -> None:
    """Close a stage as done, or failed when nothing in it succeeded."""
    job.status = JobStatus.FAILED if failed_all or error else JobStatus.DONE
    job.waiting, job.waiting_since = None, None
    if error:
        job.error = error
    job.finished_at = datetime.now(UTC)


def report(job: Job, done: int, failed: int, detail: str) -> None:
    """Show how far a running stage got without closing it (its step goes on)."""
    job.done, job.failed, job.detail = done, failed, detail
    job.waiting, job.waiting_since = None, None
