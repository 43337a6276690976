"""What the transcription editor opens with: a page's typed regions, the regions found and
not typed yet, what the OCR read, and the vision models' proposals, in reading order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents import service as documents
from service.documents.models import Document, Page, Segment, SegmentKind
from service.documents.positions import insertion_index
from service.errors import PageNotFound
from service.transcription import layout, proposals, service


@dataclass(frozen=True)
class EditorPage:
    """A page opened in the editor, its neighbours, and the state its script starts from."""

    document: Document
    page: Page
    page_count: int
    status_text: str
    state: dict[str, Any]


def open_page(session: Session, document_id: int, number: int) -> EditorPage:
    """Page `number` of a document as the editor shows it (PageNotFound if there is none)."""
    document = documents.get_or_raise(session, document_id, with_pages=False)
    page = documents.page_by_number(session, document_id, number)
    if page is None:
        raise PageNotFound(f"Document {document_id} has no page {number}.")
    segments = list(
        session.scalars(
            select(Segment).where(Segment.page_id == page.id).order_by(Segment.position)
        )
    )
    typed = [s for s in segments if s.kind is SegmentKind.MANUAL]
    finished = sum(1 for s in typed if not s.draft)
    text = service.status_text(page, finished, len(typed) - finished)
    state = {
        "document": {
            "id": document.id,
            "translate": document.translate,
            "lang": document.source_lang,
        },
        "page": _page(page, text),
        "regions": _regions(session, page, typed),
        "linesVersion": int((page.line_layout or {}).get("version", 0)),
        "detected": page.line_layout is not None,
        "ocr": [
            {"bbox": list(s.bbox), "kind": s.kind.value}
            for s in segments
            if s.kind is not SegmentKind.MANUAL
        ],
        "proposals": proposals.for_page(session, page.id),
        "vision": proposals.vision_choices(),
    }
    count = documents.page_count(session, document_id)
    return EditorPage(document, page, count, text, state)


def _page(page: Page, status_text: str) -> dict[str, Any]:
    return {
        "id": page.id,
        "number": page.number,
        "width": page.width,
        "height": page.height,
        "image": f"/api/pages/{page.id}/image?as_read=true",
        "status": page.ocr_status.value,
        "statusText": status_text,
    }


def _regions(session: Session, page: Page, typed: list[Segment]) -> list[dict[str, Any]]:
    """Typed regions in their order, each untyped one where reading order puts it."""
    unclear = service.unclear_by_line(session, typed)
    regions = [_typed(s, unclear.get(s.id, [])) for s in typed]
    for found in layout.regions_of(page):
        box = tuple(found["bbox"])
        at = insertion_index([tuple(r["bbox"]) for r in regions], box)
        regions.insert(at, _untyped(found))
    return regions


def _typed(segment: Segment, unclear: list[list[Any]]) -> dict[str, Any]:
    lines = [
        {
            "bbox": line.get("bbox"),
            "text": str(line.get("text", "")),
            "unclear": unclear[i] if i < len(unclear) else [],
            "proposal": line.get("proposal"),
        }
        for i, line in enumerate(segment.lines or [])
    ]
    return {
        "segment": segment.id,
        "version": segment.version,
        "draft": segment.draft,
        "bbox": list(segment.bbox),
        "lines": lines,
    }


def _untyped(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "segment": None,
        "version": 0,
        "draft": True,
        "bbox": list(found["bbox"]),
        "lines": [
            {"bbox": line["bbox"], "text": "", "unclear": [], "proposal": None}
            for line in found["lines"]
        ],
    }
