"""The reconciler, sent every minute by `palimpsest beat`: re-sends work the broker lost."""

from __future__ import annotations

from service.jobs.steps import TaskName
from workers.base import PipelineTask
from workers.celery_app import app


@app.task(name=TaskName.RECONCILE.value, base=PipelineTask, bind=True, max_retries=0)
def reconcile(self: PipelineTask) -> None:
    """Re-send the steps of stalled documents and runs that are neither queued nor running."""
    self.execute(TaskName.RECONCILE)
