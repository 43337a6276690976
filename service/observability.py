"""Structured logs that carry the ids of what is being worked on, and task metrics in Redis.

Every log record gets the current context (document, page, task ids) from a context
variable; `PALIMPSEST_LOG_FORMAT=json` writes one JSON object per line for log shippers.
Workers record each task's duration and outcome in Redis, where `/metrics` reads them, so
figures from all worker processes add up.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import redis

_context: ContextVar[dict[str, Any] | None] = ContextVar("palimpsest_log_context", default=None)
TASK_BUCKETS = (0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
METRICS_KEY = "palimpsest:metrics:task:"


@contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Add ids to every log record emitted inside the block."""
    token = _context.set({**(_context.get() or {}), **values})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, Any]:
    """The ids bound right now."""
    return dict(_context.get() or {})


class ContextFilter(logging.Filter):
    """Copies the bound ids onto each record (as `context` and as attributes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_context()
        record.context = context
        record.context_text = " ".join(f"{k}={v}" for k, v in context.items())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "context", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    """Set up the root logger for web, workers and CLI."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s %(context_text)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def record_task(client: redis.Redis, task: str, seconds: float, outcome: str) -> None:
    """Add one task run to its duration histogram and outcome counter."""
    key = METRICS_KEY + task
    pipe = client.pipeline(transaction=False)
    pipe.hincrbyfloat(key, "sum", seconds)
    pipe.hincrby(key, "count", 1)
    pipe.hincrby(key, f"outcome:{outcome}", 1)
    for bound in TASK_BUCKETS:
        if seconds <= bound:
            pipe.hincrby(key, f"le:{bound}", 1)
    pipe.execute()


def task_metrics(client: redis.Redis) -> dict[str, dict[str, float]]:
    """Every task's recorded histogram fields."""
    found: dict[str, dict[str, float]] = {}
    for raw_key in client.scan_iter(match=METRICS_KEY + "*", count=100):
        key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
        fields = client.hgetall(raw_key)
        found[key.removeprefix(METRICS_KEY)] = {
            (k.decode() if isinstance(k, bytes) else str(k)): float(v) for k, v in fields.items()
        }
    return found
