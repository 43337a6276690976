"""The reconciler on real Postgres and Redis: work lost by the broker or a dead worker comes
back exactly once; work that is queued, running or waiting for its retry is left alone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents.models import Document, DocumentStatus, OcrStatus, Page, Segment
from service.jobs import broker, claims, pipeline, reconcile, translate_steps
from service.jobs import service as jobs
from service.jobs.models import Job, JobStage, JobStatus
from service.jobs.queue import client, enqueue
from service.jobs.runner import run_inline
from service.jobs.steps import Queue, Step, TaskName
from service.translation import runs
from service.translation.models import Translation
from tests.fakes.ollama_server import FakeOllama
from tests.support.helpers import encode, make_document, text_image
from tests.workers.test_pipeline import upload

STALL_S = 30.0


@pytest.fixture
def broker_redis(redis_client: redis.Redis) -> Iterator[redis.Redis]:
    """The test broker, empty, with the Celery client re-created for it."""
    client.cache_clear()
    yield redis_client
    client.cache_clear()


def three_pages() -> bytes:
    pages = [text_image([[f"Page {n}: le conseil s'est assemblé."]]) for n in range(3)]
    return encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])


def reconcile_at(broker_redis: redis.Redis, now: float) -> list[Step]:
    with unit_of_work() as session:
        return reconcile.reconcile(session, lambda: broker.held_steps(broker_redis), now, STALL_S)


def ingested(translate: bool = False) -> tuple[int, list[Step]]:
    """A document whose ingest ran; the OCR steps it returned were never sent (lost)."""
    document_id = upload([("minutes.tif", three_pages())], translate=translate)
    with unit_of_work() as session:
        steps = pipeline.run(session, pipeline.default_context(), pipeline.start(document_id)[0])
    assert [s.task for s in steps] == [TaskName.OCR_PAGE] * 3
    return document_id, steps


def take_without_ack(queue: Queue) -> None:
    """Receive one message as a worker does, then vanish without acknowledging it (SIGKILL)."""
    with client().connection_for_write() as connection:
        channel: Any = connection.default_channel
        message = channel.basic_get(queue.value, no_ack=False)
        assert message is not None
        channel.do_restore = False  # a killed worker gives nothing back


def test_steps_the_broker_lost_are_sent_again_once(broker_redis: redis.Redis) -> None:
    _, lost = ingested()
    assert reconcile_at(broker_redis, time.time()) == []  # it moved just now: not stalled

    later = time.time() + 2 * STALL_S
    again = reconcile_at(broker_redis, later)
    assert again == lost
    enqueue(again)
    assert reconcile_at(broker_redis, later) == []  # queued now: not sent a second time


def test_a_message_held_by_a_dead_worker_is_sent_again_but_not_one_awaiting_its_retry(
    broker_redis: redis.Redis,
) -> None:
    _, (first, second, third) = ingested()
    enqueue([first, second, third])
    take_without_ack(Queue.OCR)  # the oldest message: the first page
    later = time.time() + 2 * STALL_S
    assert reconcile_at(broker_redis, later) == [first]

    broker_redis.flushdb()
    client().send_task(
        first.task.value, args=list(first.args), queue=Queue.OCR.value, countdown=3600
    )
    take_without_ack(Queue.OCR)  # a retry the worker holds until its time comes
    assert reconcile_at(broker_redis, later) == [second, third]


def test_a_step_running_elsewhere_is_neither_resent_nor_run_twice(
    broker_redis: redis.Redis, session: Session
) -> None:
    document_id, (first, second, third) = ingested()
    later = time.time() + 2 * STALL_S
    with unit_of_work() as holder:
        assert claims.claim(holder, first)  # a worker is reading the first page now
        assert reconcile_at(broker_redis, later) == [second, third]
        with unit_of_work() as duplicate:
            assert pipeline.run(duplicate, pipeline.default_context(), first) == []
        assert first.args[0] in {p for (p,) in holder.execute(_pending_pages(document_id))}
    with unit_of_work() as worker:  # once the holder is gone the page is read normally
        pipeline.run(worker, pipeline.default_context(), first)
    assert first.args[0] not in {p for (p,) in session.execute(_pending_pages(document_id))}


def _pending_pages(document_id: int) -> Select[int]:
    return select(Page.id).where(
        Page.document_id == document_id, Page.ocr_status == OcrStatus.PENDING
    )


def test_a_stage_whose_next_step_was_lost_after_commit_is_moved_on(
    broker_redis: redis.Redis,
) -> None:
    document_id, pages = ingested()
    ctx = pipeline.default_context()
    last: list[Step] = []
    for step in pages:
        with unit_of_work() as session:
            last = pipeline.run(session, ctx, step)  # the worker dies before sending these
    assert last == [Step(TaskName.FINALIZE_DOCUMENT, (document_id,))]
    assert reconcile_at(broker_redis, time.time() + 2 * STALL_S) == last


def test_runs_outside_the_pipeline_are_planned_or_their_batches_resent(
    broker_redis: redis.Redis, session: Session, ollama: FakeOllama
) -> None:
    document = make_document(session, [f"Le pont numéro {n} est réparé." for n in range(4)])
    with unit_of_work() as s:
        doc = s.get(Document, document.id)
        assert doc is not None
        pending = runs.create(s, doc, runs.RunRequest("ollama", "llama3.2:3b"))
        running = runs.create(s, doc, runs.RunRequest("ollama", "llama3.2:3b", force=True))
        pending_id, running_id = pending.id, running.id
    with unit_of_work() as s:
        batches = pipeline.run(
            s, pipeline.default_context(), Step(TaskName.PLAN_TRANSLATION_RUN, (running_id,))
        )
    assert batches and all(b.task is TaskName.TRANSLATE_BATCH for b in batches)
    later = time.time() + 2 * STALL_S
    assert reconcile_at(broker_redis, later) == [
        Step(TaskName.PLAN_TRANSLATION_RUN, (pending_id,)),
        *batches,
    ]
    assert ollama.chats == []  # the reconciler itself never does the work


def test_the_reconcile_task_resends_only_what_stalled_work_lost(
    broker_redis: redis.Redis, session: Session, configure: Callable[..., None]
) -> None:
    configure(PALIMPSEST_RECONCILE_STALL_S="60")
    finished = make_document(session, ["Fini."], ["Done."])
    stalled, lost = ingested()
    moving, _ = ingested()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with unit_of_work() as s:  # the first two last moved an hour ago, the third just now
        old = [finished.id, stalled]
        s.execute(update(Job).where(Job.document_id.in_(old)).values(updated_at=an_hour_ago))
        s.execute(update(Document).where(Document.id.in_(old)).values(updated_at=an_hour_ago))
    with unit_of_work() as s:
        assert pipeline.run(s, pipeline.default_context(), Step(TaskName.RECONCILE, ())) == lost
    assert moving != stalled


def test_a_step_that_keeps_failing_is_given_up_with_its_reason(
    broker_redis: redis.Redis, session: Session
) -> None:
    """A page whose file row names a type no decoder knows (a bug, not bad input) fails the
    same way on every delivery: the worker records why, the reconciler re-sends it three
    times, then fails the page with that reason and moves the document on, instead of
    re-sending it forever."""
    from service.documents.models import SourceFile
    from workers.ocr import ocr_page

    document_id, (first, *others) = ingested()
    ctx = pipeline.default_context()
    for step in others:
        with unit_of_work() as s:
            pipeline.run(s, ctx, step)  # the other pages are read
    with unit_of_work() as s:
        source = s.scalars(select(SourceFile).where(SourceFile.document_id == document_id)).one()
        source.media_type = "application/x-unknown"  # raises ValueError on every try
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    sent: list[list[Step]] = []
    for _ in range(6):
        assert ocr_page.apply(args=first.args).failed()  # as a worker runs it: it raises
        with unit_of_work() as s:
            for table in (Job, Document):
                key = Job.document_id if table is Job else Document.id
                s.execute(update(table).where(key == document_id).values(updated_at=an_hour_ago))
        with unit_of_work() as s:
            sent.append(pipeline.run(s, ctx, Step(TaskName.RECONCILE, ())))
        if sent[-1] != [first]:
            break
    assert sent == [[first]] * 3 + [[Step(TaskName.FINALIZE_DOCUMENT, (document_id,))]]
    page = session.get(Page, first.args[0])
    assert page is not None and page.ocr_status is OcrStatus.FAILED
    assert (page.ocr_error or "").startswith(
        "Gave up after 4 attempts; the last one failed with ValueError"
    )
    with unit_of_work() as s:
        pipeline.run(s, ctx, sent[-1][0])
    session.expire_all()
    document = session.get(Document, document_id)
    assert document is not None and document.status is DocumentStatus.PARTIAL
    assert "page 1: Gave up after 4 attempts" in (document.error or "")


def test_a_worker_dying_between_a_pages_ocr_and_its_translation_loses_nothing(
    broker_redis: redis.Redis, session: Session, ollama: FakeOllama
) -> None:
    """The first page is read and committed, then its worker dies before sending the plan
    of its translation: the reconciler sends that plan with the unread pages, the page is
    translated while the others are still unread, and the document ends done."""
    document_id, (first, *others) = ingested(translate=True)
    ctx = pipeline.default_context()
    with unit_of_work() as s:
        lost = pipeline.run(s, ctx, first)
    assert lost == [Step(TaskName.PLAN_TRANSLATION, (document_id,))]  # never sent

    resent = reconcile_at(broker_redis, time.time() + 2 * STALL_S)
    assert resent == [*others, *lost]
    with unit_of_work() as s:
        batches = pipeline.run(s, ctx, lost[0])
    assert batches and all(b.task is TaskName.TRANSLATE_BATCH for b in batches)
    first_page = set(session.scalars(select(Segment.id).where(Segment.page_id == first.args[0])))
    assert {i for b in batches for i in b.args[1]} == first_page  # that page alone
    for step in batches:
        with unit_of_work() as s:
            assert pipeline.run(s, ctx, step) == []  # not the end: two pages are unread
    session.expire_all()
    stages = {j.stage: j for j in jobs.for_document(session, document_id)}
    assert (stages[JobStage.OCR].done, stages[JobStage.OCR].total) == (1, 3)
    translate_job = stages[JobStage.TRANSLATE]
    assert translate_job.status is JobStatus.RUNNING
    assert (translate_job.done, translate_job.total) == (len(first_page), len(first_page))

    run_inline(ctx, others)  # the rest of the document, as the worker would
    document = session.get(Document, document_id)
    session.refresh(document)
    assert document is not None and document.status is DocumentStatus.DONE
    segments = session.scalars(select(Segment.id).where(Segment.document_id == document_id))
    translated = session.scalars(
        select(Translation.segment_id).where(Translation.document_id == document_id)
    ).all()
    assert sorted(translated) == sorted(segments)  # each once, none twice
    assert len(ollama.chats) == len(translated)


def test_translation_cancelled_while_pages_are_read_finishes_after_the_last_page(
    session: Session, ollama: FakeOllama
) -> None:
    """Cancelling a book's translation after its first page was translated stops the
    translation at once, but the document is finished only when every page is read."""
    document_id, (first, *others) = ingested(translate=True)
    ctx = pipeline.default_context()
    run_inline(ctx, [first])  # the first page read and translated
    with unit_of_work() as s:
        finalize = translate_steps.cancel_document_translation(s, document_id, "ann")
    with unit_of_work() as s:
        assert pipeline.run(s, ctx, finalize[0]) == []  # two pages are still unread
    session.expire_all()
    document = session.get(Document, document_id)
    assert document is not None and document.status is DocumentStatus.PROCESSING

    run_inline(ctx, others)
    session.expire_all()
    status = session.scalar(select(Document.status).where(Document.id == document_id))
    assert status is DocumentStatus.PARTIAL
    pages = session.scalars(select(Page.ocr_status).where(Page.document_id == document_id))
    assert set(pages) == {OcrStatus.DONE}
    translated = session.scalars(
        select(Translation.segment_id).where(Translation.document_id == document_id)
    ).all()
    first_page = session.scalars(select(Segment.id).where(Segment.page_id == first.args[0]))
    assert sorted(translated) == sorted(first_page)  # nothing sent after the cancel


def test_a_page_whose_blob_is_missing_fails_alone_with_the_reason(session: Session) -> None:
    """The store lost a file's blob: its page fails at once saying so, instead of being
    retried for what cannot come back."""
    from service.documents.models import SourceFile

    document_id, (first, *_) = ingested()
    ctx = pipeline.default_context()
    with unit_of_work() as s:
        source = s.scalars(select(SourceFile).where(SourceFile.document_id == document_id)).one()
        ctx.storage.delete(source.sha256 or "")  # the store lost the scan
    with unit_of_work() as s:
        assert pipeline.run(s, ctx, first) == []  # nothing to retry; more pages to come
    page = session.get(Page, first.args[0])
    assert page is not None and page.ocr_status is OcrStatus.FAILED
    assert "is missing from file://" in (page.ocr_error or "")
