"""HTML pages: document list, upload form, side-by-side document view, progress partial."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.config import get_settings
from service.deps import SessionDep, SettingsDep, StorageDep
from service.documents import archives, collections, service
from service.documents.router import zip_limits
from service.documents.summary import summarise
from service.errors import InvalidInput, NoUsableFile
from service.jobs import pipeline
from service.jobs import service as jobs
from service.jobs.queue import enqueue
from service.languages import LANGUAGE_NAMES
from service.templating import templates
from service.translation import backends, doubts, runs

router = APIRouter(include_in_schema=False)

# As README's Using it describes them; any other tag can be typed beside the list.
SOURCE_LANGUAGES = [
    ("auto", "Let the OCR find the script (auto)"),
    ("de-Latf", "German in Fraktur (de-Latf)"),
    ("de-Latn", "German in Antiqua (de-Latn)"),
    ("de", "German, Fraktur or Antiqua as the first page shows (de)"),
    ("fr", "French (fr)"),
    ("la", "Latin (la)"),
    ("en", "English (en)"),
    ("es", "Spanish (es)"),
    ("it", "Italian (it)"),
    ("nl", "Dutch (nl)"),
    ("grc", "Ancient Greek (grc)"),
    ("de-Latf+la", "German in Fraktur with Latin passages (de-Latf+la)"),
    ("la+grc", "Latin with Greek passages (la+grc)"),
    ("en+grc", "English with Greek quotations (en+grc)"),
    ("fr+la", "French with Latin passages (fr+la)"),
]


def _dashboard(session: SessionDep) -> dict[str, object]:
    documents = service.list_documents(session, limit=200)
    ids = [d.id for d in documents]
    return {
        "documents": documents,
        "pages": service.page_counts(session, ids),
        "jobs": jobs.for_documents(session, ids),
        "needs_check": doubts.counts(session, ids),
        "busy": any(d.status.value in ("pending", "processing") for d in documents),
    }


@router.get("/", response_class=HTMLResponse)
def document_list(request: Request, session: SessionDep) -> Response:
    """All documents with live progress per stage; failures with their reason and a retry."""
    return templates().TemplateResponse(request, "documents/list.html", _dashboard(session))


@router.get("/documents/table", response_class=HTMLResponse)
def document_table(request: Request, session: SessionDep) -> Response:
    """The dashboard's table alone, polled while documents are being processed."""
    return templates().TemplateResponse(
        request, "includes/documents_table.html", _dashboard(session)
    )


@router.post("/documents/{document_id}/delete")
def delete(session: SessionDep, storage: StorageDep, document_id: int) -> Response:
    """Delete the document and everything derived from it, then show the list."""
    orphans = service.delete(session, document_id)
    session.commit()
    for digest in orphans:
        storage.delete(digest)
    return RedirectResponse("/", status_code=303)


@router.post("/collections/{collection_id}/delete")
def delete_collection(
    session: SessionDep,
    storage: StorageDep,
    collection_id: int,
    documents: Annotated[collections.DocumentsFate, Form()],
    move_to: Annotated[int | None, Form()] = None,
) -> Response:
    """Delete a collection as its page's form asks (administrators only), then list the rest."""
    done = collections.delete(session, collection_id, documents, move_to)
    session.commit()
    for digest in done.orphans:
        storage.delete(digest)
    return RedirectResponse("/collections", status_code=303)


@router.post("/documents/{document_id}/retry")
def retry(request: Request, session: SessionDep, document_id: int) -> Response:
    """Re-run the failed pages and translations, then go back where the user was."""
    steps = pipeline.retry(session, document_id)
    session.commit()
    enqueue(steps)
    back = request.headers.get("referer") or f"/documents/{document_id}"
    return RedirectResponse(
        back if back.startswith(str(request.base_url)) else "/", status_code=303
    )


@router.get("/documents/new", response_class=HTMLResponse)
def upload_form(request: Request, session: SessionDep) -> Response:
    """The upload form, offering the models that are really available."""
    return _form(request, session, {}, [])


def _form(
    request: Request,
    session: SessionDep,
    values: dict[str, str],
    errors: list[str],
    status: int = 200,
) -> Response:
    settings = get_settings()
    return templates().TemplateResponse(
        request,
        "documents/new.html",
        {
            "values": values,
            "errors": errors,
            "source_languages": SOURCE_LANGUAGES,
            "target_languages": sorted(LANGUAGE_NAMES.items(), key=lambda kv: kv[1]),
            "backend_models": backends.backend_model_options(settings),
            "collections": service.list_collections(session),
            "max_mb": settings.max_upload_bytes // (1024 * 1024),
        },
        status_code=status,
    )


@router.post("/documents", response_class=HTMLResponse)
def upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    files: Annotated[list[UploadFile], File()],
    source_lang: Annotated[str, Form()],
    target_lang: Annotated[str, Form()] = "en",
    title: Annotated[str, Form()] = "",
    backend_model: Annotated[str, Form()] = "auto",
    model: Annotated[str, Form()] = "",
    collection: Annotated[str, Form()] = "",
    period: Annotated[str, Form()] = "",
    genre: Annotated[str, Form()] = "",
    source_tag: Annotated[str, Form()] = "",
) -> Response:
    """Create a document from the form and show it; errors re-render the form."""
    values = {"period": period, "genre": genre, "source_tag": source_tag} | {
        "title": title,
        "source_lang": source_lang,
        "target_lang": target_lang,
        "backend_model": backend_model,
        "model": model,
        "collection": collection,
    }
    backend, _, chosen = backend_model.partition("|")
    spec = service.NewDocument(
        title=title,
        source_lang=source_tag.strip() or source_lang,
        target_lang=target_lang,
        backend=backend,
        model=model.strip() or chosen,
        collection=collection,
        period=period,
        genre=genre,
    )
    uploads = [service.Upload(f.filename or "", f.file) for f in files if f.filename]
    try:
        document = service.create(
            session,
            storage,
            spec,
            archives.expand(uploads, zip_limits(settings)),
            settings.max_upload_bytes,
            settings.max_image_pixels,
        )
    except NoUsableFile as exc:
        errors = [f"{name}: {why}" for name, why in exc.rejected]
        return _form(request, session, values, errors, 422)
    except InvalidInput as exc:
        return _form(request, session, values, [exc.message], 422)
    session.commit()
    enqueue(pipeline.start(document.id))
    return RedirectResponse(f"/documents/{document.id}", status_code=303)


@router.get("/documents/{document_id}/progress", response_class=HTMLResponse)
def progress(request: Request, session: SessionDep, document_id: int) -> Response:
    """The progress panel alone, polled by the document page while it works."""
    document = service.get_or_raise(session, document_id)
    return templates().TemplateResponse(
        request,
        "includes/progress.html",
        {
            "document": document,
            "jobs": jobs.for_document(session, document_id),
            "runs": runs.for_document(session, document_id),
            "needs_check": doubts.by_page(session, document_id),
            "summary": summarise(session, document_id),
        },
    )
