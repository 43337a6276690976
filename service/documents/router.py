"""JSON API of documents: upload, status and progress, aligned segments, exports, images."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from service.config import Settings
from service.deps import SessionDep, SettingsDep, StorageDep
from service.documents import archives, collections, duplicates, service
from service.documents.models import Document, OcrStatus
from service.documents.schemas import (
    CollectionDeletedRead,
    DocumentCreated,
    DocumentRead,
    DocumentSummary,
    DuplicateRead,
    FileRead,
    FileRejected,
    JobRead,
    PageNumber,
    PageRead,
    SegmentRead,
    TranslationRead,
)
from service.jobs import pipeline
from service.jobs import service as jobs
from service.jobs.queue import enqueue
from service.translation import doubts, shown

router = APIRouter(prefix="/api", tags=["documents"])


def zip_limits(settings: Settings) -> archives.ZipLimits:
    """Zip limits from the configured upload limits."""
    return archives.ZipLimits(
        settings.max_upload_bytes, settings.max_request_bytes, settings.max_zip_entries
    )


def new_document_form(
    source_lang: Annotated[str, Form(description="BCP-47, e.g. fr, la, de-Latf (Fraktur)")],
    target_lang: Annotated[str, Form()] = "en",
    title: Annotated[str | None, Form()] = None,
    backend: Annotated[str | None, Form(description="auto, ollama, embedded or openai")] = None,
    model: Annotated[str | None, Form()] = None,
    translate: Annotated[bool, Form()] = True,
    collection: Annotated[str | None, Form(description="collection name (created if new)")] = None,
    collection_id: Annotated[int | None, Form(description="its glossary applies")] = None,
    period: Annotated[str | None, Form(description="e.g. 1780s; told to the model")] = None,
    genre: Annotated[str | None, Form(description="e.g. council minutes")] = None,
) -> service.NewDocument:
    """The fields every way of creating a document over the API shares."""
    return service.NewDocument(
        title=title,
        source_lang=source_lang,
        target_lang=target_lang,
        backend=backend,
        model=model,
        translate=translate,
        collection=collection,
        collection_id=collection_id,
        period=period,
        genre=genre,
    )


NewDocumentForm = Annotated[service.NewDocument, Depends(new_document_form)]


@router.post("/documents", status_code=202, response_model=DocumentCreated)
def create_document(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    files: Annotated[list[UploadFile], File(description="Scans: PNG, JPEG, TIFF or PDF")],
    spec: NewDocumentForm,
) -> DocumentCreated:
    """Store the scans and queue the pipeline; refused files are listed with their reason."""
    document = service.create(
        session,
        storage,
        spec,
        archives.expand(
            [service.Upload(f.filename or "", f.file) for f in files], zip_limits(settings)
        ),
        settings.max_upload_bytes,
        settings.max_image_pixels,
    )
    session.commit()
    enqueue(pipeline.start(document.id))
    return created(document, duplicate_reads(session, document))


def created(document: Document, duplicates: list[DuplicateRead] | None = None) -> DocumentCreated:
    """The answer to a new document: its files, and those refused with their reasons."""
    return DocumentCreated(
        id=document.id,
        status=document.status,
        url=f"/documents/{document.id}",
        files=[FileRead.model_validate(f) for f in document.files],
        rejected=[
            FileRejected(filename=f.filename, error=f.error) for f in document.files if f.error
        ],
        duplicates=duplicates or [],
    )


def duplicate_reads(session: Session, document: Document) -> list[DuplicateRead]:
    """What the user is told about files already uploaded before."""
    return [
        DuplicateRead(
            filename=d.filename,
            document_id=d.document_id,
            title=d.title,
            message=f"{d.filename}: already uploaded as {d.title}",
        )
        for d in duplicates.earlier_copies(session, document)
    ]


@router.post("/documents/{document_id}/retry", status_code=202, response_model=DocumentSummary)
def retry_document(session: SessionDep, document_id: int) -> DocumentSummary:
    """Re-run the failed pages and translations of a finished document."""
    steps = pipeline.retry(session, document_id)
    session.commit()
    enqueue(steps)
    return DocumentSummary.model_validate(service.get_or_raise(session, document_id))


@router.delete("/documents/{document_id}", status_code=204)
def delete_document(session: SessionDep, storage: StorageDep, document_id: int) -> Response:
    """Delete a document with its files, page images, text, translations and annotations."""
    orphans = service.delete(session, document_id)
    session.commit()
    for digest in orphans:
        storage.delete(digest)
    return Response(status_code=204)


@router.delete("/collections/{collection_id}", response_model=CollectionDeletedRead)
def delete_collection(
    session: SessionDep,
    storage: StorageDep,
    collection_id: int,
    documents: Annotated[
        collections.DocumentsFate,
        Query(description="what becomes of its documents; `refuse` deletes only an empty one"),
    ] = collections.DocumentsFate.REFUSE,
    move_to: Annotated[int | None, Query(description="the collection they move to")] = None,
) -> CollectionDeletedRead:
    """Delete a collection with its glossary and memberships (administrators only)."""
    done = collections.delete(session, collection_id, documents, move_to)
    session.commit()
    for digest in done.orphans:
        storage.delete(digest)
    return CollectionDeletedRead(name=done.name, documents=done.fate, count=done.count)


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
            update={
                "image_url": f"/api/pages/{p.id}/image" if p.image_sha256 else None,
                "ocr_image_url": f"/api/pages/{p.id}/image?as_read=true"
                if p.ocr_image_sha256 or p.image_sha256
                else None,
                "needs_transcription": p.ocr_status is OcrStatus.NEEDS_TRANSCRIPTION,
            }
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
        duplicates=duplicate_reads(session, document),
        needs_check=doubts.counts(session, [document_id]).get(document_id, 0),
    )


@router.get("/documents/{document_id}/segments", response_model=list[SegmentRead])
def get_segments(
    session: SessionDep, document_id: int, page: Annotated[PageNumber | None, Query()] = None
) -> list[SegmentRead]:
    """Aligned segments in reading order: OCR text and current translation."""
    service.get_or_raise(session, document_id)
    return [_segment_read(item) for item in shown.aligned_segments(session, document_id, page)]


def _segment_read(item: shown.AlignedSegment) -> SegmentRead:
    seg, tr = item.segment, item.translation
    return SegmentRead(
        id=seg.id,
        page=item.page_number,
        position=seg.position,
        bbox=seg.bbox,
        kind=seg.kind,
        confidence=seg.confidence,
        min_confidence=seg.min_confidence,
        low_confidence_words=[
            str(w.get("text", ""))
            for line in seg.lines
            for w in line.get("words", [])
            if w.get("low")
        ],
        lines=seg.lines,
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


@router.get("/pages/{page_id}/image", response_class=StreamingResponse)
def page_image(
    session: SessionDep,
    storage: StorageDep,
    page_id: int,
    as_read: Annotated[
        bool,
        Query(
            description="the image the boxes refer to: as the OCR read it where preparing "
            "turned, rescaled or filtered the page, else the page image itself"
        ),
    ] = False,
) -> StreamingResponse:
    """The page image as shown beside its transcription, or as the OCR engine read it."""
    chunks, media_type = service.page_image(session, storage, page_id, as_read)
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={"Cache-Control": "private, max-age=86400, immutable"},
    )
