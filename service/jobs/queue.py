"""Celery configuration shared by web and workers, and enqueueing steps by task name."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from celery import Celery
from kombu import Queue as KombuQueue

from service.config import Settings, get_settings
from service.jobs.steps import ROUTES, Queue, Step, TaskName, queue_for

# Redis hands out again a message whose worker died only after this many seconds without
# an ack. It must exceed the longest task and the longest retry countdown, or a live task
# would be run twice; lost work comes back much sooner through the reconciler.
VISIBILITY_TIMEOUT_S = 3600


def celery_config(settings: Settings) -> dict[str, Any]:
    """Effective Celery settings; a test asserts them, since typos fail silently."""
    return {
        "broker_url": str(settings.redis_url),
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT_S},
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": Queue.DEFAULT.value,
        "task_queues": [KombuQueue(q.value, routing_key=q.value) for q in Queue],
        "task_routes": {task.value: {"queue": q.value} for task, q in ROUTES.items()},
        "task_track_started": False,
        "worker_hijack_root_logger": False,
        "beat_schedule": {
            "reconcile": {
                "task": TaskName.RECONCILE.value,
                "schedule": settings.reconcile_interval_s,
                # A reconcile that waited longer than its interval is superseded by the next.
                "options": {"queue": Queue.DEFAULT.value, "expires": settings.reconcile_interval_s},
            }
        },
        "enable_utc": True,
        "timezone": "UTC",
    }


@lru_cache
def client() -> Celery:
    """A Celery app used only to send tasks (the web process never imports workers/)."""
    app = Celery("palimpsest-client", set_as_current=False)
    app.conf.update(celery_config(get_settings()))
    return app


def enqueue(steps: Iterable[Step], app: Celery | None = None) -> None:
    """Send steps to their queues; call only after the transaction that created them committed."""
    sender = app or client()
    for step in steps:
        sender.send_task(step.task.value, args=list(step.args), queue=queue_for(step.task).value)
