"""The export model: a document's pages, segments and translations, detached from the ORM."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from service.documents import service as documents
from service.documents.models import Document, FileStatus

# Characters XML 1.0 forbids (C0 controls but tab/newline/CR, surrogates, U+FFFE/U+FFFF).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Remove characters that cannot appear in XML 1.0."""
    return _XML_FORBIDDEN.sub("", text)


@dataclass(frozen=True)
class ExportSegment:
    """One aligned unit."""

    id: int
    bbox: tuple[int, int, int, int]
    lines: list[str]
    diplomatic: str
    normalized: str
    confidence: float | None
    translation: str | None
    translation_status: str | None


@dataclass
class ExportPage:
    """A page and its segments in reading order."""

    number: int
    width: int | None
    height: int | None
    image: str | None
    segments: list[ExportSegment] = field(default_factory=list)


@dataclass
class ExportDocument:
    """Everything an exporter needs."""

    id: int
    title: str
    source_lang: str
    target_lang: str
    files: list[str]
    ocr_engines: list[str]
    backend: str | None
    model: str | None
    pages: list[ExportPage]

    @property
    def has_translation(self) -> bool:
        """True when at least one segment has translated text."""
        return any(s.translation for p in self.pages for s in p.segments)


def load(session: Session, document_id: int) -> ExportDocument:
    """Collect a document for export (one query for pages, two for segments)."""
    document: Document = documents.get_or_raise(session, document_id)
    pages = {
        p.number: ExportPage(
            p.number, p.width, p.height, f"page-{p.number:04d}.png" if p.image_sha256 else None
        )
        for p in document.pages
    }
    for item in documents.aligned_segments(session, document_id):
        pages[item.page_number].segments.append(_segment(item))
    return ExportDocument(
        id=document.id,
        title=document.title,
        source_lang=document.source_lang,
        target_lang=document.target_lang,
        files=[f.filename for f in document.files if f.status is FileStatus.INGESTED],
        ocr_engines=sorted({p.ocr_engine for p in document.pages if p.ocr_engine}),
        backend=document.backend,
        model=document.model,
        pages=[pages[n] for n in sorted(pages)],
    )


def _segment(item: documents.AlignedSegment) -> ExportSegment:
    seg, tr = item.segment, item.translation
    text = tr.text if tr is not None and tr.text else None
    return ExportSegment(
        id=seg.id,
        bbox=seg.bbox,
        lines=[str(line.get("text", "")) for line in seg.lines] or seg.text.split("\n"),
        diplomatic=seg.text,
        normalized=seg.normalized,
        confidence=seg.confidence,
        translation=text,
        translation_status=tr.status.value if tr is not None else None,
    )
