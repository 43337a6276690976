"""Process hooks: fresh database connections in every forked worker child."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_process_init

from service.db import reset_engine

log = logging.getLogger(__name__)


@worker_process_init.connect
def _reset_connections(**_: Any) -> None:
    """Drop connections inherited from the parent; each child opens its own."""
    reset_engine()
