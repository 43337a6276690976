"""Counting the attempts of pipeline steps that fail, so the reconciler stops re-sending a
step that keeps failing and fails it with its reason instead.

A worker records every unexpected failure of a step (its exception, in a transaction of
its own since the step's rolled back). The reconciler counts each time it re-sends a lost
step; past `MAX_RESENDS` it gives up on the step (the page, batch or document fails with
the last error, or with "never finished" when a worker died on it, out of memory say).
A step that succeeds forgets its count, so a retry later starts afresh.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.jobs.claims import step_key
from service.jobs.models import StepAttempt
from service.jobs.steps import Step

MAX_RESENDS = 3
MAX_ERROR = 2000


def record_failure(session: Session, step: Step, error: str) -> None:
    """Note that a run of the step failed with this error."""
    statement = insert(StepAttempt).values(
        key=step_key(step),
        task=step.task.value,
        args=list(step.args),
        resent=0,
        failures=1,
        last_error=error[:MAX_ERROR],
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[StepAttempt.key],
            set_={
                "failures": StepAttempt.failures + 1,
                "last_error": statement.excluded.last_error,
            },
        )
    )


def forget(session: Session, step: Step) -> None:
    """The step succeeded: its attempts no longer count."""
    session.execute(delete(StepAttempt).where(StepAttempt.key == step_key(step)))


def triage(session: Session, lost: Sequence[Step]) -> tuple[list[Step], list[tuple[Step, str]]]:
    """Split lost steps into those to send again (counted) and those to give up on, with
    the reason to record."""
    keys = {step_key(step): step for step in lost}
    rows = {
        row.key: row
        for row in session.scalars(select(StepAttempt).where(StepAttempt.key.in_(keys)))
    }
    resend: list[Step] = []
    doomed: list[tuple[Step, str]] = []
    for key, step in keys.items():
        row = rows.get(key) or _new(session, key, step)
        if row.resent >= MAX_RESENDS:
            doomed.append((step, reason(row)))
            session.delete(row)
        else:
            row.resent += 1
            resend.append(step)
    session.flush()
    return resend, doomed


def _new(session: Session, key: int, step: Step) -> StepAttempt:
    row = StepAttempt(key=key, task=step.task.value, args=list(step.args), resent=0, failures=0)
    session.add(row)
    return row


def reason(row: StepAttempt) -> str:
    """What the user is told when the reconciler gives up on a step."""
    attempts = row.resent + 1
    if row.last_error:
        return f"Gave up after {attempts} attempts; the last one failed with {row.last_error}"
    return (
        f"Gave up after {attempts} attempts that never finished "
        "(a worker may have died on it, for example for lack of memory)."
    )
