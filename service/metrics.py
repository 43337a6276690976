"""`/metrics` in the Prometheus text format: work done from the database, queue depth and
task durations from Redis."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis
from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.config import get_settings
from service.deps import SessionDep
from service.documents.models import Document, Page, SourceFile
from service.jobs.steps import Queue
from service.observability import TASK_BUCKETS, task_metrics
from service.translation.models import Translation

router = APIRouter(tags=["health"])


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> str:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {value:g}" for labels, value in samples]
    return "\n".join(lines)


def _by(session: Session, column: Any) -> list[tuple[str, float]]:
    rows = session.execute(select(column, func.count()).group_by(column))
    return [(f'{{status="{key.value}"}}', float(n)) for key, n in rows]


def _queue_depths(client: redis.Redis) -> list[tuple[str, float]]:
    return [(f'{{queue="{q.value}"}}', float(client.llen(q.value))) for q in Queue]


def _task_histograms(client: redis.Redis) -> list[str]:
    metrics = task_metrics(client)
    buckets: list[tuple[str, float]] = []
    sums: list[tuple[str, float]] = []
    counts: list[tuple[str, float]] = []
    outcomes: list[tuple[str, float]] = []
    for task, fields in sorted(metrics.items()):
        for bound in TASK_BUCKETS:
            buckets.append((f'{{task="{task}",le="{bound}"}}', fields.get(f"le:{bound}", 0.0)))
        buckets.append((f'{{task="{task}",le="+Inf"}}', fields.get("count", 0.0)))
        sums.append((f'{{task="{task}"}}', fields.get("sum", 0.0)))
        counts.append((f'{{task="{task}"}}', fields.get("count", 0.0)))
        outcomes += [
            (f'{{task="{task}",outcome="{k.removeprefix("outcome:")}"}}', v)
            for k, v in sorted(fields.items())
            if k.startswith("outcome:")
        ]
    histogram = [
        "# HELP palimpsest_task_duration_seconds Duration of pipeline tasks.",
        "# TYPE palimpsest_task_duration_seconds histogram",
        *(f"palimpsest_task_duration_seconds_bucket{lb} {v:g}" for lb, v in buckets),
        *(f"palimpsest_task_duration_seconds_sum{lb} {v:g}" for lb, v in sums),
        *(f"palimpsest_task_duration_seconds_count{lb} {v:g}" for lb, v in counts),
    ]
    return [
        "\n".join(histogram),
        _family("palimpsest_tasks_total", "counter", "Pipeline task runs by outcome.", outcomes),
    ]


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(session: SessionDep) -> PlainTextResponse:
    """Pages read, segments translated, failures, queue depth and task durations."""
    families = [
        _family(
            "palimpsest_documents", "gauge", "Documents by status.", _by(session, Document.status)
        ),
        _family("palimpsest_pages", "gauge", "Pages by OCR status.", _by(session, Page.ocr_status)),
        _family(
            "palimpsest_files",
            "gauge",
            "Uploaded files by status.",
            _by(session, SourceFile.status),
        ),
        _family(
            "palimpsest_translations",
            "gauge",
            "Segment translations by status.",
            _by(session, Translation.status),
        ),
    ]
    client = redis.Redis.from_url(str(get_settings().redis_url), socket_timeout=2)
    try:
        families.append(
            _family(
                "palimpsest_queue_depth",
                "gauge",
                "Tasks waiting in each queue.",
                _queue_depths(client),
            )
        )
        families += _task_histograms(client)
    except redis.RedisError:
        families.append(_family("palimpsest_redis_up", "gauge", "Redis reachable.", [("", 0)]))
    return PlainTextResponse(
        "\n".join(families) + "\n", media_type="text/plain; version=0.0.4; charset=utf-8"
    )
