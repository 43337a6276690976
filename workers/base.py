"""The base task: run one pipeline step in a unit of work, retry transient errors, enqueue next."""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import Task
from sqlalchemy.exc import OperationalError

from service.db import unit_of_work
from service.errors import TransientError
from service.jobs import pipeline
from service.jobs.queue import enqueue
from service.jobs.steps import Step, TaskName

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 300


def backoff(retries: int) -> float:
    """Exponential backoff with jitter, capped."""
    return float(min(MAX_BACKOFF_S, 5 * 2**retries) * random.uniform(0.5, 1.5))  # noqa: S311


class PipelineTask(Task):  # type: ignore[type-arg]
    """A thin adapter: load by id, call the pipeline step, commit, then enqueue what follows."""

    acks_late = True
    max_retries = 8

    def execute(self, task: TaskName, *args: Any) -> None:
        """Run the step; transient errors retry with backoff, then the step is given up."""
        step = Step(task, args)
        try:
            with unit_of_work() as session:
                next_steps = pipeline.run(session, pipeline.default_context(), step)
        except (TransientError, OperationalError) as exc:
            reason = exc.message if isinstance(exc, TransientError) else "database unavailable"
            if self.request.retries >= self.max_retries:
                with unit_of_work() as session:
                    next_steps = pipeline.give_up(session, step, reason)
            else:
                log.warning("%s%s: %s; retrying", task, args, reason)
                raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
        enqueue(next_steps, app=self.app)
