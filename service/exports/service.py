"""Choosing an export format and producing the file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from service.exports import model, tei, txt


class ExportFormat(StrEnum):
    """Formats the API, UI and CLI offer."""

    TXT = "txt"
    TEI = "tei"


@dataclass(frozen=True)
class ExportFile:
    """An export ready to send or write."""

    content: bytes
    media_type: str
    filename: str


def export(session: Session, document_id: int, fmt: ExportFormat) -> ExportFile:
    """Render a document in the requested format."""
    document = model.load(session, document_id)
    stem = f"palimpsest-{document.id}"
    if fmt is ExportFormat.TEI:
        return ExportFile(tei.render(document), "application/tei+xml", f"{stem}.tei.xml")
    return ExportFile(
        txt.render(document).encode("utf-8"), "text/plain; charset=utf-8", f"{stem}.txt"
    )
