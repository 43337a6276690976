"""HTML pages of translation: the model comparison and the OCR correction diff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from service.deps import SessionDep
from service.documents import service as documents
from service.templating import templates
from service.translation import compare, corrections, runs
from service.translation.router import parse_run_ids

router = APIRouter(include_in_schema=False)


@router.get("/documents/{document_id}/compare", response_class=HTMLResponse)
def comparison_page(
    request: Request,
    session: SessionDep,
    document_id: int,
    runs_param: Annotated[str | None, Query(alias="runs")] = None,
) -> Response:
    """Figures per model and the translations side by side."""
    document = documents.get_or_raise(session, document_id)
    all_runs = runs.for_document(session, document_id)
    chosen = parse_run_ids(runs_param) if runs_param else [r.id for r in all_runs][-2:]
    result = compare.compare(session, document_id, chosen) if chosen else None
    return templates().TemplateResponse(
        request,
        "translation/compare.html",
        {"document": document, "comparison": result, "runs": all_runs},
    )


@router.get("/documents/{document_id}/corrections", response_class=HTMLResponse)
def corrections_page(request: Request, session: SessionDep, document_id: int) -> Response:
    """The OCR text with each proposed correction shown as a diff."""
    document = documents.get_or_raise(session, document_id)
    items = corrections.for_document(session, document_id)
    return templates().TemplateResponse(
        request, "translation/corrections.html", {"document": document, "items": items}
    )
