"""HTML pages of translation: model comparison, OCR correction diff, collections' glossaries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts import access
from service.deps import SessionDep, SettingsDep
from service.documents import service as documents
from service.errors import InvalidInput
from service.jobs import service as jobs
from service.jobs.queue import enqueue
from service.jobs.steps import Step, TaskName
from service.templating import templates
from service.translation import backends, compare, corrections, glossary, runs
from service.translation.models import RunKind
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
def corrections_page(
    request: Request, session: SessionDep, settings: SettingsDep, document_id: int
) -> Response:
    """The OCR text with each proposed correction shown as a diff, and a form to ask for
    proposals (post-correction is off by default)."""
    document = documents.get_or_raise(session, document_id)
    items = corrections.for_document(session, document_id)
    backend_models = [o for o in backends.backend_model_options(settings) if o.value != "auto"]
    return templates().TemplateResponse(
        request,
        "translation/corrections.html",
        {
            "document": document,
            "items": items,
            "automatic": settings.ocr_post_correction,
            "backend_models": backend_models,
            "preselected": backends.preferred(
                backend_models, f"{document.backend}|{document.model or ''}"
            ),
            "page_count": len(document.pages),
            "jobs": jobs.for_document(session, document_id),
            "runs": runs.for_document(session, document_id),
        },
    )


@router.post("/documents/{document_id}/corrections")
def request_corrections(
    session: SessionDep,
    document_id: int,
    backend_model: Annotated[str, Form()] = "",
    page: Annotated[str, Form()] = "",
) -> Response:
    """Ask a model for OCR corrections of one page or the whole document (a `correct` run)."""
    document = documents.get_or_raise(session, document_id)
    backend, _, model = backend_model.partition("|")
    number = int(page) if page.strip().isdigit() else None
    request = runs.RunRequest(
        backend or document.backend,
        model or (document.model if not backend else None),
        page_from=number,
        page_to=number,
        kind=RunKind.CORRECT,
    )
    run = runs.create(session, document, request)
    session.commit()
    enqueue([Step(TaskName.PLAN_TRANSLATION_RUN, (run.id,))])
    return RedirectResponse(f"/documents/{document_id}/corrections", status_code=303)


@router.post("/documents/{document_id}/collection")
def put_in_collection(
    session: SessionDep, document_id: int, collection_id: Annotated[str, Form()] = ""
) -> Response:
    """Put an existing document in a collection (or take it out), from its page."""
    document = documents.get_or_raise(session, document_id, with_pages=False)
    chosen = int(collection_id) if collection_id.strip().isdigit() else None
    glossary.assign_collection(session, document, chosen)
    session.commit()
    return RedirectResponse(f"/documents/{document_id}", status_code=303)


@router.get("/collections", response_class=HTMLResponse)
def collections_page(request: Request, session: SessionDep) -> Response:
    """The collections the user may see, with their document counts; a form for a new one."""
    visible = [c for c in documents.list_collections(session) if access.may_see(c.id)]
    return templates().TemplateResponse(
        request, "translation/collections.html", {"collections": visible, "error": None}
    )


@router.post("/collections", response_class=HTMLResponse)
def create_collection(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
) -> Response:
    """Create a collection (its creator becomes a member) and open its glossary."""
    try:
        collection = glossary.create_collection(session, name, description or None)
    except InvalidInput as exc:
        visible = [c for c in documents.list_collections(session) if access.may_see(c.id)]
        return templates().TemplateResponse(
            request,
            "translation/collections.html",
            {"collections": visible, "error": exc.message},
            status_code=422,
        )
    session.commit()
    return RedirectResponse(f"/collections/{collection.id}", status_code=303)


@router.get("/collections/{collection_id}", response_class=HTMLResponse)
def glossary_page(request: Request, session: SessionDep, collection_id: int) -> Response:
    """A collection's glossary: terms, agreed translations and notes, editable in place."""
    return _glossary(request, session, collection_id, None)


def _glossary(
    request: Request,
    session: SessionDep,
    collection_id: int,
    error: str | None,
    status: int = 200,
    replacing: dict[str, object] | None = None,
) -> Response:
    collection = documents.get_collection_or_raise(session, collection_id)
    return templates().TemplateResponse(
        request,
        "translation/glossary.html",
        {
            "collection": collection,
            "entries": glossary.list_entries(session, collection_id),
            "documents": documents.collection_documents(session, collection_id),
            "error": error,
            "replacing": replacing,
        },
        status_code=status,
    )


@router.post("/collections/{collection_id}/glossary", response_class=HTMLResponse)
def put_entry(
    request: Request,
    session: SessionDep,
    collection_id: int,
    term: Annotated[str, Form()],
    translation: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    replace: Annotated[bool, Form()] = False,
) -> Response:
    """Add a term, or change the agreed translation of an existing one; adding a term that
    is there already asks first (409) instead of replacing its translation."""
    existing = glossary.entry_by_term(session, collection_id, term)
    changed = existing is not None and (existing.translation, existing.note or "") != (
        translation.strip(),
        note.strip(),
    )
    if changed and not replace:
        asked: dict[str, object] = {"old": existing, "term": term.strip()}
        asked |= {"translation": translation.strip(), "note": note.strip()}
        return _glossary(request, session, collection_id, None, 409, asked)
    try:
        glossary.put_entry(session, collection_id, term, translation, note.strip() or None)
    except InvalidInput as exc:
        return _glossary(request, session, collection_id, exc.message, 422)
    session.commit()
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


@router.post("/collections/{collection_id}/glossary/{entry_id}/delete")
def delete_entry(session: SessionDep, collection_id: int, entry_id: int) -> Response:
    """Remove a term."""
    glossary.delete_entry(session, collection_id, entry_id)
    session.commit()
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)
