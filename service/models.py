"""Every ORM model, imported so that `Base.metadata` is complete (Alembic, tests)."""

from service.accounts.models import ApiToken, LoginSession, Membership, User
from service.db import Base
from service.documents.models import Collection, Document, Page, Segment, SourceFile
from service.imports.models import IiifManifest
from service.jobs.models import Job, StepAttempt
from service.review.models import Annotation, Edit
from service.transcription.models import TranscriptionProposal
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
    "ApiToken",
    "Base",
    "Collection",
    "Correction",
    "Document",
    "Edit",
    "GlossaryEntry",
    "IiifManifest",
    "Job",
    "LoginSession",
    "Membership",
    "MemoryEntry",
    "Page",
    "RunItem",
    "Segment",
    "SourceFile",
    "StepAttempt",
    "TranscriptionProposal",
    "Translation",
    "TranslationRun",
    "User",
]
