"""Names, queues and the message shape of pipeline steps (shared by web, workers and CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TaskName(StrEnum):
    """Celery task names; the web enqueues by name and never imports the workers."""

    FETCH_IIIF = "palimpsest.fetch_iiif"
    INGEST_DOCUMENT = "palimpsest.ingest_document"
    OCR_PAGE = "palimpsest.ocr_page"
    PLAN_TRANSLATION = "palimpsest.plan_translation"
    PLAN_TRANSLATION_RUN = "palimpsest.plan_translation_run"
    TRANSLATE_BATCH = "palimpsest.translate_batch"
    FINALIZE_DOCUMENT = "palimpsest.finalize_document"
    RECONCILE = "palimpsest.reconcile"
    DETECT_LINES = "palimpsest.detect_lines"
    TRANSCRIBE_REGION = "palimpsest.transcribe_region"


class Queue(StrEnum):
    """Queues per resource: CPU-bound OCR, model-bound translation, everything else."""

    OCR = "ocr"
    LLM = "llm"
    DEFAULT = "default"


ROUTES: dict[TaskName, Queue] = {
    TaskName.OCR_PAGE: Queue.OCR,
    TaskName.DETECT_LINES: Queue.OCR,
    TaskName.TRANSLATE_BATCH: Queue.LLM,
    TaskName.TRANSCRIBE_REGION: Queue.LLM,
}


def queue_for(task: TaskName) -> Queue:
    """Queue a task is sent to."""
    return ROUTES.get(task, Queue.DEFAULT)


@dataclass(frozen=True)
class Step:
    """One unit of pipeline work: a task name and JSON-serialisable arguments (ids, scalars)."""

    task: TaskName
    args: tuple[Any, ...]
