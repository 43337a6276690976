"""Running pipeline steps synchronously in this process (the CLI's `process` command)."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable

from service.db import unit_of_work
from service.errors import TransientError
from service.jobs import pipeline
from service.jobs.context import Context
from service.jobs.steps import Step, TaskName

log = logging.getLogger(__name__)


def run_inline(
    ctx: Context,
    steps: Iterable[Step],
    max_retries: int = 3,
    on_step: Callable[[Step], None] | None = None,
) -> None:
    """Execute steps and everything they lead to, each in its own unit of work."""
    queue = deque(steps)
    while queue:
        step = queue.popleft()
        if on_step is not None:
            on_step(step)
        # Pages are read in order, each translated before the next is read (as a worker
        # pool would, with a worker on the model): the first translated page comes soon.
        after = _run_with_retries(ctx, step, max_retries)
        queue.extendleft(reversed([s for s in after if s.task is not TaskName.OCR_PAGE]))
        queue.extend(s for s in after if s.task is TaskName.OCR_PAGE)


def _run_with_retries(ctx: Context, step: Step, max_retries: int) -> list[Step]:
    for attempt in range(max_retries + 1):
        try:
            with unit_of_work() as session:
                return pipeline.run(session, ctx, step)
        except TransientError as exc:
            if attempt == max_retries:
                with unit_of_work() as session:
                    return pipeline.give_up(session, step, exc.message)
            delay = 2.0 * 2**attempt
            log.warning("%s: %s; retrying in %.0f s", step.task, exc.message, delay)
            with unit_of_work() as session:
                pipeline.note_waiting(session, step, exc.message)
            time.sleep(delay)
    return []
