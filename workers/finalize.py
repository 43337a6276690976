"""Final stage: the document's status from its pages and translations."""

from __future__ import annotations

from service.jobs.steps import TaskName
from workers.base import PipelineTask
from workers.celery_app import app


@app.task(name=TaskName.FINALIZE_DOCUMENT.value, base=PipelineTask, bind=True)
def finalize_document(self: PipelineTask, document_id: int) -> None:
    """Close the document as done, partial or failed."""
    self.execute(TaskName.FINALIZE_DOCUMENT, document_id)
