"""Imports over the API: PAGE/ALTO transcriptions with their images, and IIIF manifests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from service.deps import SessionDep, SettingsDep, StorageDep
from service.documents.models import Document
from service.documents.router import zip_limits
from service.documents.schemas import DocumentCreated, FileRead, FileRejected
from service.documents.service import NewDocument, Upload
from service.errors import InvalidInput
from service.imports import fetching, iiif
from service.imports import service as imports
from service.jobs import pipeline
from service.jobs.queue import enqueue
from service.storage import human_bytes

router = APIRouter(prefix="/api/imports", tags=["imports"])


@router.post("", status_code=202, response_model=DocumentCreated)
def import_transcriptions(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    files: Annotated[
        list[UploadFile],
        File(description="PAGE or ALTO .xml files with their page images, or zips"),
    ],
    source_lang: Annotated[str, Form(description="BCP-47, e.g. fr, la, de-Latf (Fraktur)")],
    target_lang: Annotated[str, Form()] = "en",
    title: Annotated[str | None, Form()] = None,
    backend: Annotated[str | None, Form()] = None,
    model: Annotated[str | None, Form()] = None,
    translate: Annotated[bool, Form()] = True,
) -> DocumentCreated:
    """Create a document whose text comes from the files (no OCR) and queue its translation."""
    spec = NewDocument(title, source_lang, target_lang, backend, model, translate)
    uploads = [Upload(f.filename or "", f.file) for f in files]
    document = imports.create(session, storage, spec, uploads, zip_limits(settings))
    session.commit()
    enqueue(pipeline.start(document.id))
    return _created(document)


@router.post("/iiif", status_code=202, response_model=DocumentCreated)
def import_iiif(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    source_lang: Annotated[str, Form()],
    manifest_url: Annotated[str | None, Form(description="on an allowed IIIF host")] = None,
    manifest: Annotated[UploadFile | None, File(description="a manifest file")] = None,
    target_lang: Annotated[str, Form()] = "en",
    title: Annotated[str | None, Form()] = None,
    backend: Annotated[str | None, Form()] = None,
    model: Annotated[str | None, Form()] = None,
    translate: Annotated[bool, Form()] = True,
) -> DocumentCreated:
    """Check the manifest (URL or file) and queue the fetching of its page images from
    allowed hosts, then OCR and translation; the ingest stage shows the progress."""
    spec = NewDocument(title, source_lang, target_lang, backend, model, translate)
    document = fetching.create(
        session,
        storage,
        settings,
        spec,
        url=manifest_url or None,
        manifest=_manifest_bytes(manifest),
    )
    session.commit()
    enqueue(pipeline.start_iiif(document.id))
    return _created(document)


def _manifest_bytes(manifest: UploadFile | None) -> bytes | None:
    if manifest is None:
        return None
    raw = manifest.file.read(iiif.MAX_MANIFEST_BYTES + 1)
    if len(raw) > iiif.MAX_MANIFEST_BYTES:
        raise InvalidInput(f"The manifest is larger than {human_bytes(iiif.MAX_MANIFEST_BYTES)}.")
    return raw


def _created(document: Document) -> DocumentCreated:
    """The answer to an import: its files, and those refused with their reasons."""
    return DocumentCreated(
        id=document.id,
        status=document.status,
        url=f"/documents/{document.id}",
        files=[FileRead.model_validate(f) for f in document.files],
        rejected=[
            FileRejected(filename=f.filename, error=f.error) for f in document.files if f.error
        ],
    )
