"""The Celery application of the workers: configuration from settings, one module per stage."""

from __future__ import annotations

from celery import Celery

from service.config import get_settings
from service.jobs.queue import celery_config
from workers import signals  # noqa: F401 - connects before the worker sets up logging

app = Celery(
    "palimpsest",
    include=[
        "workers.ingest",
        "workers.ocr",
        "workers.translate",
        "workers.finalize",
        "workers.reconcile",
        "workers.transcribe",
    ],
)
app.conf.update(celery_config(get_settings()))
