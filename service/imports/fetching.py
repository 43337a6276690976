"""IIIF imports as documents: the web request checks and records, a worker fetches.

The request refuses what it can tell is wrong at once (no manifest, an invalid URL, a
host not allowed; for a manifest file: not a manifest, images on hosts not allowed) and
creates the document. The `fetch_iiif` step then works one request at a time — the
manifest, then each image — so no web request waits on a slow host, progress shows on
the ingest stage ("fetched 3 of 40 page images from …"), and a crash resumes where it
stopped. What cannot be fetched fails with its reason: an image alone, or the whole
import when the manifest cannot be read. Then the ordinary ingest reads the images.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config import Settings
from service.documents import service as documents
from service.documents.files import SNIFF_BYTES, sniff
from service.documents.models import Document, DocumentStatus, FileStatus, SourceFile
from service.errors import InvalidInput, UnreadableFile
from service.imports import iiif
from service.imports.models import IiifManifest
from service.jobs import service as jobs
from service.jobs.models import Job, JobStage
from service.storage import Storage
from service.text import storable


class Progress(StrEnum):
    """What a fetch step leaves to do."""

    MORE = "more"  # fetch again
    DONE = "done"  # everything fetched: ingest
    FAILED = "failed"  # the manifest could not be read: the document failed


def create(
    session: Session,
    storage: Storage,
    settings: Settings,
    spec: documents.NewDocument,
    *,
    url: str | None = None,
    manifest: bytes | None = None,
) -> Document:
    """A IIIF import from a manifest URL or file, for the fetch step to fill."""
    if (url is None) == (manifest is None):
        raise InvalidInput("Give either manifest_url or a manifest file.")
    parsed = None
    if url is not None:
        iiif.check_host(url, settings)
    else:
        assert manifest is not None
        parsed = _checked(iiif.read_manifest(manifest), settings)
    title = parsed.title if parsed else f"IIIF manifest from {_host(url)}"
    document = documents.new_document(
        session, spec, storable(title).strip()[:500] or "IIIF manifest"
    )
    record = IiifManifest(document_id=document.id, url=url, title_from_manifest=not spec.title)
    session.add(record)
    if parsed is not None and manifest is not None:
        record.sha256 = storage.put_bytes(manifest)
        _add_canvases(session, document, parsed)
    jobs.create_for_document(session, document.id, spec.translate)
    session.flush()
    return document


def _host(url: str | None) -> str:
    return (urlsplit(url or "").hostname or "the web") if url else "a file"


def _checked(manifest: iiif.Manifest, settings: Settings) -> iiif.Manifest:
    """The manifest, once every image it would fetch is on an allowed host."""
    canvases = manifest.canvases[: settings.iiif_max_canvases]
    for canvas in canvases:  # refuse before any connection if one host is not allowed
        iiif.check_host(canvas.image_url, settings)
    return iiif.Manifest(manifest.version, manifest.title, canvases)


def _add_canvases(session: Session, document: Document, manifest: iiif.Manifest) -> None:
    for position, canvas in enumerate(manifest.canvases):
        name = f"{position + 1:04d}-{(canvas.label or 'canvas')[:80]}.img"
        session.add(
            SourceFile(
                document_id=document.id,
                position=position,
                filename=storable(name),
                size=0,
                status=FileStatus.REMOTE,
                source_url=canvas.image_url,
            )
        )
    session.flush()
    session.refresh(document, ["files"])


def pending(session: Session, document_id: int) -> bool:
    """Whether a IIIF import still has its manifest or images to fetch."""
    record = session.get(IiifManifest, document_id)
    if record is None:
        return False
    if record.sha256 is None and record.error is None:
        return True
    remote = select(SourceFile.id).where(
        SourceFile.document_id == document_id, SourceFile.status == FileStatus.REMOTE
    )
    return session.scalar(remote.limit(1)) is not None


def fetch_next(
    session: Session, storage: Storage, settings: Settings, document: Document, job: Job
) -> Progress:
    """Fetch the manifest if it is not read yet, else the next image still remote."""
    record = session.get(IiifManifest, document.id)
    if record is not None and record.sha256 is None:
        return _fetch_manifest(session, storage, settings, document, record, job)
    remote = [f for f in document.files if f.status is FileStatus.REMOTE]
    if remote:
        _fetch_image(storage, settings, remote[0])
        _report(job, document)
    return Progress.MORE if len(remote) > 1 else Progress.DONE


def _fetch_manifest(
    session: Session,
    storage: Storage,
    settings: Settings,
    document: Document,
    record: IiifManifest,
    job: Job,
) -> Progress:
    url = record.url or ""
    try:
        raw = iiif.fetch(url, settings, iiif.MAX_MANIFEST_BYTES)
        manifest = _checked(iiif.read_manifest(raw, url), settings)
    except (UnreadableFile, InvalidInput) as exc:
        _fail(session, document, record, job, f"The manifest {url} cannot be used: {exc.message}")
        return Progress.FAILED
    record.sha256 = storage.put_bytes(raw)
    if record.title_from_manifest:
        document.title = storable(manifest.title).strip()[:500] or document.title
    _add_canvases(session, document, manifest)
    jobs.start(job, total=len(manifest.canvases))
    _report(job, document)
    return Progress.MORE


def _fetch_image(storage: Storage, settings: Settings, source: SourceFile) -> None:
    """Fetch one image into storage; a failure is that file's, with its reason."""
    url = source.source_url or ""
    try:
        data = iiif.fetch(url, settings, settings.max_upload_bytes)
        source.media_type = sniff(data[:SNIFF_BYTES]).value
    except (UnreadableFile, InvalidInput) as exc:
        source.status, source.error = FileStatus.FAILED, exc.message[:2000]
        return
    source.sha256, source.size = storage.put_bytes(data), len(data)
    source.status = FileStatus.ACCEPTED


def _report(job: Job, document: Document) -> None:
    files = [f for f in document.files if f.source_url]
    fetched = sum(1 for f in files if f.status is FileStatus.ACCEPTED)
    failed = sum(1 for f in files if f.status is FileStatus.FAILED)
    host = urlsplit(files[0].source_url or "").hostname if files else None
    detail = f"fetched {fetched + failed} of {len(files)} page images from {host or 'the web'}"
    jobs.report(job, fetched, failed, detail + (f" ({failed} failed)" if failed else ""))


def _fail(
    session: Session, document: Document, record: IiifManifest, job: Job, reason: str
) -> None:
    """The manifest cannot be used: the import fails with the reason, nothing else runs."""
    record.error = reason[:2000]
    document.status, document.error = DocumentStatus.FAILED, reason
    jobs.finish(job, error=reason)
    for later in jobs.for_document(session, document.id):
        if later.stage is not JobStage.INGEST and later.status not in jobs.TERMINAL:
            jobs.skip(later)
