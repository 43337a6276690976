"""OCR stage: one task per page on the `ocr` queue."""

from __future__ import annotations

from service.jobs.steps import TaskName
from workers.base import PipelineTask
from workers.celery_app import app


@app.task(name=TaskName.OCR_PAGE.value, base=PipelineTask, bind=True)
def ocr_page(self: PipelineTask, page_id: int) -> None:
    """Read one page with Tesseract and store its segments."""
    self.execute(TaskName.OCR_PAGE, page_id)
