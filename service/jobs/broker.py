"""A read-only look at the messages waiting in the broker (Celery on kombu's Redis transport).

Kombu keeps each queue as a Redis list (one per priority step: `ocr`, `ocr\\x06\\x163`, …)
and every message a worker has received but not acknowledged in the `unacked` hash, with
the time of delivery in the `unacked_index` sorted set. A message in a queue will be
delivered; an unacknowledged one belongs to a worker that is working on it, waiting for
its retry time (`eta`), or dead. The reconciler uses this view to re-send only the steps
the broker no longer holds.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from service.jobs.claims import step_key
from service.jobs.steps import Queue, Step, TaskName

log = logging.getLogger(__name__)

PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)  # priority 0 is the queue's own name
UNACKED = "unacked"
UNACKED_INDEX = "unacked_index"


@dataclass(frozen=True)
class Held:
    """A step the broker holds, and for an unacknowledged one when it may still run."""

    key: int
    delivered_at: float | None = None  # None: still queued
    eta: float | None = None


def queue_keys(queue: Queue) -> list[str]:
    """The Redis lists of one queue, one per priority step."""
    return [queue.value, *(f"{queue.value}{PRIORITY_SEPARATOR}{p}" for p in PRIORITY_STEPS)]


def held_steps(client: redis.Redis) -> list[Held]:
    """Every pipeline step queued or received-but-unacknowledged in the broker."""
    held: list[Held] = []
    for queue in Queue:
        for key in queue_keys(queue):
            for raw in client.lrange(key, 0, -1):
                held += _held(_loads(raw), None)
    index: Any = client.zrange(UNACKED_INDEX, 0, -1, withscores=True)
    delivered = {_text(tag): float(score) for tag, score in index}
    for tag, raw in client.hgetall(UNACKED).items():
        entry = _loads(raw)
        message = entry[0] if isinstance(entry, list) and entry else None
        held += _held(message, delivered.get(_text(tag), 0.0))
    return held


def _held(message: Any, delivered_at: float | None) -> list[Held]:
    step = _step_of(message)
    return [] if step is None else [Held(step_key(step), delivered_at, _eta(message))]


def still_coming(held: list[Held], now: float, grace_s: float) -> set[int]:
    """Keys of steps the broker will still deliver or a live worker may still be starting.

    Queued messages count; so does an unacknowledged one delivered within the grace period
    or whose retry time has not passed it. An older unacknowledged message whose step holds
    no lock belongs to a dead worker (the caller checks the locks).
    """
    coming: set[int] = set()
    for item in held:
        latest = max(item.delivered_at or 0.0, item.eta or 0.0)
        if item.delivered_at is None or latest > now - grace_s:
            coming.add(item.key)
    return coming


def _loads(raw: Any) -> Any:
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _step_of(message: Any) -> Step | None:
    """The pipeline step a Celery (protocol 2) message carries, or None for anything else."""
    if not isinstance(message, dict):
        return None
    headers = message.get("headers") or {}
    try:
        task = TaskName(str(headers.get("task")))
        body = message.get("body", "")
        if (message.get("properties") or {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
    except (ValueError, TypeError, KeyError, IndexError):
        log.debug("not a pipeline message: %s", str(message)[:200])
        return None
    return Step(task, tuple(args))


def _eta(message: Any) -> float | None:
    if not isinstance(message, dict):
        return None
    eta = (message.get("headers") or {}).get("eta")
    if not eta:
        return None
    try:
        return datetime.fromisoformat(str(eta)).timestamp()
    except ValueError:
        return None
