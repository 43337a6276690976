"""Transcription: lines found on a page (`ocr` queue), boxes read by a vision model (`llm`)."""

from __future__ import annotations

from service.jobs.steps import TaskName
from workers.base import PipelineTask
from workers.celery_app import app


@app.task(name=TaskName.DETECT_LINES.value, base=PipelineTask, bind=True)
def detect_lines(self: PipelineTask, page_id: int) -> None:
    """Find the text lines of a page for the transcription editor."""
    self.execute(TaskName.DETECT_LINES, page_id)


@app.task(name=TaskName.TRANSCRIBE_REGION.value, base=PipelineTask, bind=True)
def transcribe_region(self: PipelineTask, proposal_id: int) -> None:
    """Ask a vision model to read one region or line of a page."""
    self.execute(TaskName.TRANSCRIBE_REGION, proposal_id)
