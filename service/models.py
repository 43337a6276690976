"""Every ORM model, imported so that `Base.metadata` is complete (Alembic, tests)."""

from service.db import Base
from service.documents.models import Collection, Document, Page, Segment, SourceFile
from service.jobs.models import Job
from service.review.models import Annotation, Edit
from service.translation.models import Translation

__all__ = [
    "Annotation",
    "Base",
    "Collection",
    "Document",
    "Edit",
    "Job",
    "Page",
    "Segment",
    "SourceFile",
    "Translation",
]
