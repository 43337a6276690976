"""HTML pages: document list, upload form, side-by-side document view, progress partial."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.config import get_settings
from service.deps import SessionDep, SettingsDep, StorageDep
from service.documents import service
from service.errors import InvalidInput, NoUsableFile
from service.exports.service import FORMATS
from service.jobs import pipeline
from service.jobs import service as jobs
from service.jobs.queue import enqueue
from service.ocr.languages import LANGUAGE_NAMES
from service.templating import templates

router = APIRouter(include_in_schema=False)

SOURCE_LANGUAGES = [
    ("de-Latf", "German (Fraktur)"),
    ("de", "German (Antiqua)"),
    ("fr", "French"),
    ("la", "Latin"),
    ("en", "English"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("nl", "Dutch"),
]


@router.get("/", response_class=HTMLResponse)
def document_list(request: Request, session: SessionDep) -> Response:
    """All documents with their status."""
    return templates().TemplateResponse(
        request, "documents/list.html", {"documents": service.list_documents(session, limit=200)}
    )


@router.get("/documents/new", response_class=HTMLResponse)
def upload_form(request: Request) -> Response:
    """The upload form."""
    return _form(request, {}, [])


def _form(
    request: Request, values: dict[str, str], errors: list[str], status: int = 200
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
            "default_backend": settings.default_backend,
            "ollama_model": settings.ollama_model,
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
    backend: Annotated[str, Form()] = "auto",
    model: Annotated[str, Form()] = "",
) -> Response:
    """Create a document from the form and show it; errors re-render the form."""
    values = {
        "title": title,
        "source_lang": source_lang,
        "target_lang": target_lang,
        "backend": backend,
        "model": model,
    }
    try:
        document = service.create(
            session,
            storage,
            service.NewDocument(title, source_lang, target_lang, backend, model),
            [service.Upload(f.filename or "", f.file) for f in files if f.filename],
            settings.max_upload_bytes,
        )
    except NoUsableFile as exc:
        return _form(request, values, [f"{name}: {why}" for name, why in exc.rejected], 422)
    except InvalidInput as exc:
        return _form(request, values, [exc.message], 422)
    session.commit()
    enqueue(pipeline.start(document.id))
    return RedirectResponse(f"/documents/{document.id}", status_code=303)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, session: SessionDep, document_id: int) -> Response:
    """Scan, source and translation side by side, page by page."""
    document = service.get_or_raise(session, document_id)
    by_page: dict[int, list[service.AlignedSegment]] = {}
    for item in service.aligned_segments(session, document_id):
        by_page.setdefault(item.page_number, []).append(item)
    return templates().TemplateResponse(
        request,
        "documents/detail.html",
        {
            "document": document,
            "jobs": jobs.for_document(session, document_id),
            "segments_by_page": by_page,
            "export_formats": [(f.value, info.label) for f, info in FORMATS.items()],
        },
    )


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
        },
    )
