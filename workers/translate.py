"""Translation stage: plan batches, then one task per batch on the `llm` queue."""

from __future__ import annotations

from service.jobs.steps import TaskName
from workers.base import PipelineTask
from workers.celery_app import app


@app.task(name=TaskName.PLAN_TRANSLATION.value, base=PipelineTask, bind=True)
def plan_translation(self: PipelineTask, document_id: int) -> None:
    """Choose the backend and fan out the document's batches."""
    self.execute(TaskName.PLAN_TRANSLATION, document_id)


@app.task(name=TaskName.PLAN_TRANSLATION_RUN.value, base=PipelineTask, bind=True)
def plan_translation_run(self: PipelineTask, run_id: int) -> None:
    """Resolve a requested run's model and fan out its batches."""
    self.execute(TaskName.PLAN_TRANSLATION_RUN, run_id)


@app.task(name=TaskName.TRANSLATE_BATCH.value, base=PipelineTask, bind=True)
def translate_batch(self: PipelineTask, run_id: int, segment_ids: list[int]) -> None:
    """Translate (or correct) one batch of consecutive segments of a run."""
    self.execute(TaskName.TRANSLATE_BATCH, run_id, segment_ids)
