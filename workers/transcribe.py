"""Transcription: the text lines of a page found for the editor (`ocr` queue)."""

from __future__ import annotations

from service.jobs.steps import TaskName
from workers.base import PipelineTask
from workers.celery_app import app


@app.task(name=TaskName.DETECT_LINES.value, base=PipelineTask, bind=True)
def detect_lines(self: PipelineTask, page_id: int) -> None:
    """Find the text lines of a page for the transcription editor."""
    self.execute(TaskName.DETECT_LINES, page_id)
