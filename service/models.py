"""Every ORM model, imported so that `Base.metadata` is complete (Alembic, tests)."""

from service.db import Base
from service.documents.models import Collection, Document, Page, Segment, SourceFile
from service.jobs.models import Job
from service.review.models import Annotation
from service.translation.models import (
    Correction,
    GlossaryEntry,
    MemoryEntry,
    RunItem,
    Translation,
    TranslationRun,
)

__all__ = [
    "Annotation",
    "Base",
    "Collection",
    "Correction",
    "Document",
    "GlossaryEntry",
    "Job",
    "MemoryEntry",
    "Page",
    "RunItem",
    "Segment",
    "SourceFile",
    "Translation",
    "TranslationRun",
]
