"""Which pipeline steps are running right now, told by Postgres advisory locks.

A step takes a transaction-level advisory lock keyed by its task name and arguments before
it works. The lock lives exactly as long as the step's transaction: it is released at
commit or rollback and, when a worker is killed, as soon as Postgres sees its connection
drop. So a second delivery of a step that is still running elsewhere can tell and leave
the work to the first, and the reconciler can tell a step in progress from a lost one by
reading `pg_locks`, without asking the workers.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.jobs.steps import Step

_UNSIGNED = 1 << 64
_SIGNED_MAX = 1 << 63


def step_key(step: Step) -> int:
    """A signed 64-bit key for the step (the same for a tuple or a JSON list of arguments)."""
    canonical = json.dumps([step.task.value, list(step.args)], separators=(",", ":"))
    digest = hashlib.blake2b(canonical.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def claim(session: Session, step: Step) -> bool:
    """Take the step's lock for this transaction; False when another transaction holds it."""
    return bool(
        session.scalar(select(text("pg_try_advisory_xact_lock(:key)")).params(key=step_key(step)))
    )


def running_keys(session: Session) -> set[int]:
    """Keys of every step whose lock is held in this database now."""
    rows = session.execute(
        text(
            "SELECT classid::bigint, objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 1 AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    )
    return {_signed((int(high) << 32) | int(low)) for high, low in rows}


def _signed(value: int) -> int:
    return value - _UNSIGNED if value >= _SIGNED_MAX else value
