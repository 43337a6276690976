"""The same scan uploaded twice, recognised by the SHA-256 of its bytes: told, not refused.

A historian may well want a second copy of a document (another target language, another
model, a clean start), so a second upload is created as asked; the upload's answer and the
document page say which earlier document, among those the user may see, holds the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents.models import Document, SourceFile
from service.documents.service import visible


@dataclass(frozen=True)
class Duplicate:
    """A file of this document that an earlier document already holds."""

    filename: str
    document_id: int
    title: str


def earlier_copies(session: Session, document: Document) -> list[Duplicate]:
    """Earlier documents the current user may see that hold a file of this one."""
    names: dict[str, str] = {}
    for file in document.files:
        if file.sha256:
            names.setdefault(file.sha256, file.filename)
    if not names:
        return []
    query: Any = (
        select(SourceFile.sha256, Document.id, Document.title)
        .join(Document, Document.id == SourceFile.document_id)
        .where(SourceFile.sha256.in_(list(names)), Document.id < document.id)
    )
    rows = session.execute(visible(query).distinct().order_by(Document.id, SourceFile.sha256)).all()
    return [Duplicate(names[row.sha256], row.id, row.title) for row in rows]
