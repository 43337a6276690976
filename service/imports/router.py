"""Imports over the API: PAGE/ALTO transcriptions with their images, and IIIF manifests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from service.deps import SessionDep, SettingsDep, StorageDep
from service.documents.router import NewDocumentForm, created, zip_limits
from service.documents.schemas import DocumentCreated
from service.documents.service import Upload
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
    spec: NewDocumentForm,
) -> DocumentCreated:
    """Create a document whose text comes from the files (no OCR) and queue its translation."""
    uploads = [Upload(f.filename or "", f.file) for f in files]
    document = imports.create(session, storage, spec, uploads, zip_limits(settings))
    session.commit()
    enqueue(pipeline.start(document.id))
    return created(document)


@router.post("/iiif", status_code=202, response_model=DocumentCreated)
def import_iiif(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    spec: NewDocumentForm,
    manifest_url: Annotated[str | None, Form(description="on an allowed IIIF host")] = None,
    manifest: Annotated[UploadFile | None, File(description="a manifest file")] = None,
) -> DocumentCreated:
    """Check the manifest (URL or file) and queue the fetching of its page images from
    allowed hosts, then OCR and translation; the ingest stage shows the progress."""
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
    return created(document)


def _manifest_bytes(manifest: UploadFile | None) -> bytes | None:
    if manifest is None:
        return None
    raw = manifest.file.read(iiif.MAX_MANIFEST_BYTES + 1)
    if len(raw) > iiif.MAX_MANIFEST_BYTES:
        raise InvalidInput(f"The manifest is larger than {human_bytes(iiif.MAX_MANIFEST_BYTES)}.")
    return raw
