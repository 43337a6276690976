"""JSON API of documents: upload, status and progress, aligned segments, exports, images."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, Response

from service.deps import SessionDep, SettingsDep, StorageDep
from service.documents import service
from service.documents.schemas import (
    DocumentCreated,
    DocumentRead,
    DocumentSummary,
    FileRead,
    FileRejected,
    JobRead,
    PageRead,
    SegmentRead,
    TranslationRead,
)
from service.exports.service import ExportFormat, export
from service.jobs import pipeline
from service.jobs import service as jobs
from service.jobs.queue import enqueue

router = APIRouter(prefix="/api", tags=["documents"])


@router.post("/documents", status_code=202, response_model=DocumentCreated)
def create_document(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    files: Annotated[list[UploadFile], File(description="Scans: PNG, JPEG, TIFF or PDF")],
    source_lang: Annotated[str, Form(description="BCP-47, e.g. fr, la, de-Latf (Fraktur)")],
    target_lang: Annotated[str, Form()] = "en",
    title: Annotated[str | None, Form()] = None,
    backend: Annotated[str | None, Form(description="auto, ollama, embedded or openai")] = None,
    model: Annotated[str | None, Form()] = None,
    translate: Annotated[bool, Form()] = True,
    collection_id: Annotated[int | None, Form(description="its glossary applies")] = None,
    period: Annotated[str | None, Form(description="e.g. 1780s; told to the model")] = None,
    genre: Annotated[str | None, Form(description="e.g. council minutes")] = None,
) -> DocumentCreated:
    """Store the scans and queue the pipeline; refused files are listed with their reason."""
    spec = service.NewDocument(
        title, source_lang, target_lang, backend, model, translate, collection_id, period, genre
    )
    document = service.create(
        session,
        storage,
        spec,
        [service.Upload(f.filename or "", f.file) for f in files],
        settings.max_upload_bytes,
    )
    session.commit()
    enqueue(pipeline.start(document.id))
    return DocumentCreated(
        id=document.id,
        status=document.status,
        url=f"/documents/{document.id}",
        files=[FileRead.model_validate(f) for f in document.files],
        rejected=[
            FileRejected(filename=f.filename, error=f.error) for f in document.files if f.error
        ],
    )


@router.get("/documents", response_model=list[DocumentSummary])
def list_documents(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[DocumentSummary]:
    """Documents, newest first."""
    return [
        DocumentSummary.model_validate(d) for d in service.list_documents(session, limit, offset)
    ]


@router.get("/documents/{document_id}", response_model=DocumentRead)
def get_document(session: SessionDep, document_id: int) -> DocumentRead:
    """A document with its files, pages and progress per stage."""
    document = service.get_or_raise(session, document_id)
    pages = [
        PageRead.model_validate(p).model_copy(
            update={"image_url": f"/api/pages/{p.id}/image" if p.image_sha256 else None}
        )
        for p in document.pages
    ]
    return DocumentRead(
        **DocumentSummary.model_validate(document).model_dump(),
        backend=document.backend,
        model=document.model,
        error=document.error,
        files=[FileRead.model_validate(f) for f in document.files],
        pages=pages,
        jobs=[JobRead.model_validate(j) for j in jobs.for_document(session, document_id)],
    )


@router.get("/documents/{document_id}/segments", response_model=list[SegmentRead])
def get_segments(
    session: SessionDep, document_id: int, page: Annotated[int | None, Query(ge=1)] = None
) -> list[SegmentRead]:
    """Aligned segments in reading order: OCR text and current translation."""
    service.get_or_raise(session, document_id)
    return [_segment_read(item) for item in service.aligned_segments(session, document_id, page)]


def _segment_read(item: service.AlignedSegment) -> SegmentRead:
    seg, tr = item.segment, item.translation
    return SegmentRead(
        id=seg.id,
        page=item.page_number,
        position=seg.position,
        bbox=seg.bbox,
        confidence=seg.confidence,
        source=seg.text,
        normalized=seg.normalized,
        translation=None
        if tr is None
        else TranslationRead(
            text=tr.text,
            backend=tr.backend,
            model=tr.model,
            status=tr.status,
            stale=item.stale,
            error=tr.error,
            tokens_in=tr.tokens_in,
            tokens_out=tr.tokens_out,
            duration_ms=tr.duration_ms,
            model_digest=tr.model_digest,
            host=tr.host,
            prompt_version=tr.prompt_version,
            generation_ms=tr.generation_ms,
            tokens_per_s=tr.tokens_per_s,
            attempts=tr.attempts,
            fallbacks=tr.fallbacks,
            flags=tr.flags,
            from_memory=tr.memory_id is not None,
            run_id=tr.run_id,
        ),
    )


@router.get("/documents/{document_id}/export")
def export_document(
    session: SessionDep,
    document_id: int,
    format: Annotated[ExportFormat, Query()] = ExportFormat.TEI,
) -> Response:
    """Download the document as plain text or TEI P5."""
    result = export(session, document_id, format)
    return Response(
        result.content,
        media_type=result.media_type,
        headers={"Content-Disposition": f'attachment; filename="{result.filename}"'},
    )


@router.get("/pages/{page_id}/image", response_class=FileResponse)
def page_image(session: SessionDep, storage: StorageDep, page_id: int) -> FileResponse:
    """The page image as shown beside its transcription."""
    path, media_type = service.page_image(session, storage, page_id)
    return FileResponse(
        path, media_type=media_type, headers={"Cache-Control": "private, max-age=86400, immutable"}
    )
