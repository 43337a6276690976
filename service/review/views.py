"""HTML of the review desk: one document page at a time, and search across documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup, escape

from service.accounts import access
from service.deps import SessionDep, SettingsDep
from service.documents import duplicates
from service.documents import service as documents
from service.documents.models import Document
from service.documents.summary import summarise
from service.exports.service import FORMATS
from service.jobs import service as jobs
from service.review import live, search, service
from service.review.models import AnnotationType
from service.review.pages import Progress, ReviewPage, RowStatus, review_page, review_row
from service.templating import templates
from service.translation import backends, doubts, draft, runs

router = APIRouter(include_in_schema=False)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    document_id: int,
    page: Annotated[int, Query(ge=1)] = 1,
    status: Annotated[str, Query(max_length=32, description="the rows shown first")] = "all",
) -> Response:
    """Scan and segments of one page side by side, for reading, correcting and approving;
    `status` chooses the filter the rows open with (e.g. `needs_check`)."""
    document = documents.get_or_raise(session, document_id, with_pages=False)
    page_count = documents.page_count(session, document_id)
    progress = _progress(session, document_id)
    view = _view(session, settings, document, page, page_count, progress)
    backend_models = [o for o in backends.backend_model_options(settings) if o.value != "auto"]
    context = {
        "document": document,
        "page_count": page_count,
        "jobs": progress.jobs,
        "runs": progress.runs,
        "annotation_types": list(AnnotationType),
        "row_statuses": list(RowStatus),
        "export_formats": [(f.value, info.label) for f, info in FORMATS.items()],
        "backend_models": backend_models,
        "preselected": backends.preferred(
            backend_models, backends.backend_model_value(document.backend, document.model)
        ),
        "view": view,
        "token": view.state.token if view is not None else _empty_token(page_count),
        "duplicates": duplicates.earlier_copies(session, document),
        "shown_status": status,
        "needs_check": doubts.by_page(session, document_id),
        "draft": draft.bundled_drafts(session, document_id),
        "collections": [c for c in documents.list_collections(session) if access.may_see(c.id)],
        # Only the uploader or an administrator moves a document between collections.
        "may_move": access.may_move(document.created_by),
        "summary": summarise(session, document_id),
    }
    return templates().TemplateResponse(request, "review/page.html", context)


def _progress(session: SessionDep, document_id: int) -> Progress:
    return Progress(
        jobs.for_document(session, document_id), runs.for_document(session, document_id)
    )


def _view(
    session: SessionDep,
    settings: SettingsDep,
    document: Document,
    page: int,
    page_count: int,
    progress: Progress,
) -> ReviewPage | None:
    if not page_count:
        return None
    number = min(page, page_count)
    return review_page(session, document, number, page_count, settings.low_confidence, progress)


def _empty_token(page_count: int) -> str:
    return f"{live.page_shape(None, page_count, [])}."


@router.get("/documents/{document_id}/live")
def document_live(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    document_id: int,
    page: Annotated[int, Query(ge=1)] = 1,
    token: Annotated[str, Query(max_length=100)] = "",
) -> JSONResponse:
    """What changed on an open document page since it got `token`: the progress panel always,
    the whole page view when its shape changed (a page read meanwhile), else the rows."""
    document = documents.get_or_raise(session, document_id, with_pages=False)
    progress = _progress(session, document_id)
    answer: dict[str, object] = {
        "final": live.is_final(document, progress.runs),
        "progress": _render(
            request,
            "includes/progress.html",
            document=document,
            jobs=progress.jobs,
            runs=progress.runs,
            needs_check=doubts.by_page(session, document_id),
        ),
    }
    page_count = documents.page_count(session, document_id)
    number = min(page, page_count) if page_count else 1
    found = documents.page_by_number(session, document_id, number) if page_count else None
    state = live.page_state(session, document, found, page_count, progress.pair)
    answer["token"] = state.token
    if state.token == token:
        return JSONResponse(answer)
    view = _view(session, settings, document, number, page_count, progress)
    answer["token"] = view.state.token if view is not None else _empty_token(page_count)
    if token.partition(".")[0] != state.shape:
        answer["view"] = _render(
            request, "review/view.html", document=document, view=view, row_statuses=list(RowStatus)
        )
    elif view is not None:
        answer["rows"] = _render(
            request, "includes/segment_rows.html", document=document, rows=view.rows
        )
    return JSONResponse(answer)


def _render(request: Request, name: str, **context: object) -> str:
    return templates().get_template(name).render(request=request, **context)


@router.get("/segments/{segment_id}/row", response_class=HTMLResponse)
def segment_row(
    request: Request, session: SessionDep, settings: SettingsDep, segment_id: int
) -> Response:
    """One segment's row, swapped in by the page's script after an edit."""
    found = documents.get_segment_or_raise(session, segment_id)
    progress = _progress(session, found.document_id)
    document, row = review_row(session, segment_id, settings.low_confidence, progress)
    return templates().TemplateResponse(
        request, "includes/segment_rows.html", {"document": document, "rows": [row]}
    )


def highlight(excerpt: str) -> Markup:
    """Escape a search excerpt, then turn the match sentinels into <mark>."""
    escaped = str(escape(excerpt))
    return Markup(  # noqa: S704 - the text was escaped on the line above
        escaped.replace(search.HIGHLIGHT_START, "<mark>").replace(search.HIGHLIGHT_END, "</mark>")
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request, session: SessionDep, q: Annotated[str, Query(max_length=500)] = ""
) -> Response:
    """Full-text search in sources and translations; results link to the segment."""
    hits = search.search(session, q) if q.strip() else []
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
