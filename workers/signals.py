"""Process hooks: our log format in every worker, fresh database connections per child,
start-up objects kept out of the garbage collector's walks."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import setup_logging, worker_init, worker_process_init

from service import heap
from service.config import get_settings
from service.db import reset_engine
from service.observability import configure_logging

log = logging.getLogger(__name__)


@setup_logging.connect
def _configure_logging(loglevel: Any = None, **_: Any) -> None:
    """Use Palimpsest's log format (with task and document ids) instead of Celery's."""
    level = logging.getLevelName(loglevel) if isinstance(loglevel, int) else (loglevel or "INFO")
    configure_logging(str(level), get_settings().log_format)


@worker_process_init.connect
def _reset_connections(**_: Any) -> None:
    """Drop connections inherited from the parent; each child opens its own."""
    reset_engine()


@worker_init.connect
def _settle_heap(**_: Any) -> None:
    """In the parent, before the pool forks: the children inherit a frozen heap, so their
    collections neither walk nor write to the pages they share with it."""
    heap.freeze()
