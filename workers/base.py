"""The base task: run one pipeline step in a unit of work, retry transient errors, enqueue next."""

from __future__ import annotations

import logging
import random
import time
from functools import lru_cache
from typing import Any

import redis
from celery import Task
from celery.exceptions import Retry
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from service.config import get_settings
from service.db import unit_of_work
from service.errors import TransientError
from service.jobs import attempts, pipeline
from service.jobs.queue import enqueue
from service.jobs.steps import Step, TaskName
from service.observability import log_context, record_task

log = logging.getLogger(__name__)


def backoff(retries: int) -> float:
    """Exponential backoff with jitter, capped (PALIMPSEST_RETRY_BACKOFF_S, _MAX_S)."""
    settings = get_settings()
    delay = min(settings.retry_backoff_max_s, settings.retry_backoff_s * 2**retries)
    return float(delay * random.uniform(0.5, 1.5))  # noqa: S311


@lru_cache
def metrics_client() -> redis.Redis:
    """Redis connection for task metrics (the broker's server)."""
    return redis.Redis.from_url(str(get_settings().redis_url), socket_timeout=2)


# What the first argument of a step is, where it is not a document's id.
_FIRST_ARGUMENT = {
    TaskName.OCR_PAGE: "page_id",
    TaskName.DETECT_LINES: "page_id",
    TaskName.TRANSCRIBE_REGION: "proposal_id",
    TaskName.PLAN_TRANSLATION_RUN: "run_id",
    TaskName.TRANSLATE_BATCH: "run_id",
}


def ids_of(step: Step) -> dict[str, Any]:
    """The ids a step works on, for the log context."""
    key = _FIRST_ARGUMENT.get(step.task, "document_id")
    return {key: step.args[0]} if step.args else {}


UNCOUNTED_RETRIES = 100_000


class PipelineTask(Task):  # type: ignore[type-arg]
    """A thin adapter: load by id, call the pipeline step, commit, then enqueue what follows."""

    acks_late = True
    max_retries = 8

    def execute(self, task: TaskName, *args: Any) -> None:
        """Run the step with its ids in every log line, and record its duration and outcome."""
        step = Step(task, args)
        started = time.perf_counter()
        outcome = "failed"
        with log_context(task=task.value, task_id=self.request.id, **ids_of(step)):
            try:
                self._run(step)
                outcome = "ok"
            except Retry:
                outcome = "retry"
                raise
            finally:
                seconds = time.perf_counter() - started
                log.info("%s %s in %.2f s", task.value, outcome, seconds)
                self._record(task, seconds, outcome)

    def _run(self, step: Step) -> None:
        try:
            with unit_of_work() as session:
                next_steps = pipeline.run(session, pipeline.default_context(), step)
        except (TransientError, OperationalError) as exc:
            next_steps = self._after_transient(step, exc)
        except Exception as exc:
            # Not worth retrying here: the step's transaction rolled back and the reconciler
            # re-sends it, counting; it gives up with this error if it keeps failing.
            self._note_failure(step, f"{type(exc).__name__}: {exc}")
            raise
        try:
            enqueue(next_steps, app=self.app)
        except BrokerError as exc:
            # The step's work is committed; what follows is re-sent by the reconciler.
            log.warning(
                "could not send %d next step(s), broker unavailable: %s", len(next_steps), exc
            )

    def _after_transient(self, step: Step, exc: Exception) -> list[Step]:
        """Retry with backoff; give up when the retries ran out, or when the model server
        kept the translation waiting longer than PALIMPSEST_MODEL_WAIT_LIMIT_S."""
        delay = backoff(self.request.retries)
        retries = self.max_retries
        if isinstance(exc, TransientError):
            reason = exc.message
            limit = get_settings().model_wait_limit_s
            waited = self._note_waiting(step, reason)
            if step.task in pipeline.MODEL_STEPS:
                if waited >= limit:
                    return self._give_up(step, pipeline.waited_too_long(reason, limit))
                # The time limit decides, not the count of retries.
                delay, retries = min(delay, limit - waited), UNCOUNTED_RETRIES
        else:
            reason = "database unavailable"
        if self.request.retries >= retries:
            return self._give_up(step, reason)
        log.warning("%s%s: %s; retrying in %.0f s", step.task, step.args, reason, delay)
        raise self.retry(exc=exc, countdown=delay, max_retries=retries) from exc

    @staticmethod
    def _give_up(step: Step, reason: str) -> list[Step]:
        with unit_of_work() as session:
            return pipeline.give_up(session, step, reason)

    @staticmethod
    def _note_waiting(step: Step, reason: str) -> float:
        try:
            with unit_of_work() as session:
                return pipeline.note_waiting(session, step, reason)
        except SQLAlchemyError as exc:
            log.warning("could not record that %s waits: %s", step.task, exc)
            return 0.0

    @staticmethod
    def _note_failure(step: Step, error: str) -> None:
        try:
            with unit_of_work() as session:
                attempts.record_failure(session, step, error)
        except SQLAlchemyError as exc:
            log.warning("could not record that %s failed: %s", step.task, exc)

    @staticmethod
    def _record(task: TaskName, seconds: float, outcome: str) -> None:
        try:
            record_task(metrics_client(), task.value, seconds, outcome)
        except redis.RedisError as exc:
            log.debug("could not record task metrics: %s", exc)
