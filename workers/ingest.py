"""Ingest stage: fetch a IIIF import's images, count pages of the uploaded files."""

from __future__ import annotations

from service.jobs.steps import TaskName
from workers.base import PipelineTask
from workers.celery_app import app


@app.task(name=TaskName.FETCH_IIIF.value, base=PipelineTask, bind=True)
def fetch_iiif(self: PipelineTask, document_id: int) -> None:
    """Fetch a IIIF import's manifest or its next image from an allowed host."""
    self.execute(TaskName.FETCH_IIIF, document_id)


@app.task(name=TaskName.INGEST_DOCUMENT.value, base=PipelineTask, bind=True)
def ingest_document(self: PipelineTask, document_id: int) -> None:
    """Create the document's page rows and fan out OCR."""
    self.execute(TaskName.INGEST_DOCUMENT, document_id)
