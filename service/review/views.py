"""HTML of the review desk: one document page at a time, and search across documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from service.deps import SessionDep, SettingsDep
from service.documents import duplicates
from service.documents import service as documents
from service.documents.summary import summarise
from service.exports.service import FORMATS
from service.jobs import service as jobs
from service.review import service
from service.review.models import AnnotationType
from service.review.pages import RowStatus, review_page, review_row
from service.templating import templates
from service.translation import backends, runs

router = APIRouter(include_in_schema=False)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    document_id: int,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Scan and segments of one page side by side, for reading, correcting and approving."""
    document = documents.get_or_raise(session, document_id, with_pages=False)
    page_count = documents.page_count(session, document_id)
    context = {
        "document": document,
        "page_count": page_count,
        "jobs": jobs.for_document(session, document_id),
        "runs": runs.for_document(session, document_id),
        "annotation_types": list(AnnotationType),
        "row_statuses": list(RowStatus),
        "export_formats": [(f.value, info.label) for f, info in FORMATS.items()],
        "engines": [e for e in backends.engine_choices(settings) if e[0] != "auto"],
        "view": None,
        "duplicates": duplicates.earlier_copies(session, document),
        "summary": summarise(session, document_id),
    }
    if page_count:
        number = min(page, page_count)
        context["view"] = review_page(
            session, document, number, page_count, settings.low_confidence
        )
    return templates().TemplateResponse(request, "review/page.html", context)


@router.get("/segments/{segment_id}/row", response_class=HTMLResponse)
def segment_row(
    request: Request, session: SessionDep, settings: SettingsDep, segment_id: int
) -> Response:
    """One segment's row, swapped in by the page's script after an edit."""
    document, row = review_row(session, segment_id, settings.low_confidence)
    return templates().TemplateResponse(
        request, "includes/segment_rows.html", {"document": document, "rows": [row]}
    )


def highlight(excerpt: str) -> Markup:
    """Escape a search excerpt, then turn the match sentinels into <mark>."""
    escaped = str(escape(excerpt))
    return Markup(  # noqa: S704 - the text was escaped on the line above
        escaped.replace(service.HIGHLIGHT_START, "<mark>").replace(service.HIGHLIGHT_END, "</mark>")
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request, session: SessionDep, q: Annotated[str, Query(max_length=500)] = ""
) -> Response:
    """Full-text search in sources and translations; results link to the segment."""
    hits = service.search(session, q) if q.strip() else []
    return templates().TemplateResponse(
        request,
        "review/search.html",
        {"q": q, "hits": [(h, highlight(h.excerpt)) for h in hits]},
    )


@router.get("/documents/{document_id}/annotations", response_class=HTMLResponse)
def annotations_page(
    request: Request,
    session: SessionDep,
    document_id: int,
    type: Annotated[AnnotationType | None, Query()] = None,
) -> Response:
    """Every annotation of a document, filtered by type, each linking to its segment."""
    document = documents.get_or_raise(session, document_id)
    rows = service.list_annotations(session, document_id, type)
    items = [
        (a, s, n, service.layer_text(session, s, a.layer)[a.start : a.end]) for a, s, n in rows
    ]
    return templates().TemplateResponse(
        request,
        "review/annotations.html",
        {
            "document": document,
            "items": items,
            "types": list(AnnotationType),
            "chosen": type,
        },
    )
