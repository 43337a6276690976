"""Every ORM model, imported so that `Base.metadata` is complete (Alembic, tests)."""

from service.accounts.models import ApiToken, LoginSession, Membership, User
from service.db import Base
from service.documents.models import Collection, Document, Page, Segment, SourceFile
from service.jobs.models import Job
from service.review.models import Annotation, Edit
from service.translation.models import Translation

__all__ = [
    "Annotation",
    "ApiToken",
    "Base",
    "Collection",
    "Document",
    "Edit",
    "Job",
    "LoginSession",
    "Membership",
    "Page",
    "Segment",
    "SourceFile",
    "Translation",
    "User",
]
