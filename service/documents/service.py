"""Every query and mutation of documents, files, pages and segments."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, func, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session, selectinload

from service.accounts import access
from service.accounts.membership import join_collection
from service.config import Settings
from service.documents.files import (
    SNIFF_BYTES,
    MediaType,
    count_pages,
    header_size,
    sniff,
    too_many_pixels,
)
from service.documents.models import (
    Collection,
    Document,
    DocumentStatus,
    FileStatus,
    OcrStatus,
    Page,
    Segment,
    SourceFile,
)
from service.errors import (
    DocumentNotFound,
    InvalidInput,
    NotFound,
    NoUsableFile,
    PageNotFound,
    SegmentNotFound,
    UnreadableFile,
)
from service.jobs import service as jobs
from service.languages import normalise_tag
from service.storage import Storage, TooLarge, human_bytes
from service.text import storable

log = logging.getLogger(__name__)
BACKENDS = ("auto", "ollama", "embedded", "openai")


@dataclass(frozen=True)
class Upload:
    """A file as the client sent it: its name (metadata only), a stream, or why it is refused."""

    filename: str
    stream: IO[bytes]
    error: str | None = None


@dataclass(frozen=True)
class IngestLimits:
    """What one file may hold before it is refused."""

    max_image_pixels: int = 250_000_000
    max_pdf_pages: int = 2000

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestLimits:
        """The limits configured for this installation."""
        return cls(settings.max_image_pixels, settings.max_pdf_pages)


@dataclass(frozen=True, kw_only=True)
class NewDocument:
    """What the user chose on upload or import."""

    title: str | None = None
    source_lang: str
    target_lang: str = "en"
    backend: str | None = None
    model: str | None = None
    translate: bool = True
    collection: str | None = None
    collection_id: int | None = None
    period: str | None = None
    genre: str | None = None


def create(
    session: Session,
    storage: Storage,
    spec: NewDocument,
    uploads: Sequence[Upload],
    max_bytes: int,
    max_pixels: int | None = None,
) -> Document:
    """Store the uploads and create the document; each refused file records its reason
    (an image over `max_pixels` too, before any work is queued for it)."""
    limits = (max_bytes, max_pixels)
    check(spec)  # before any file is stored
    files = [_store_upload(storage, i, upload, limits) for i, upload in enumerate(uploads)]
    if not any(f.status is FileStatus.ACCEPTED for f in files):
        rejected = [(f.filename, f.error or "") for f in files]
        raise NoUsableFile("None of the uploaded files can be processed.", rejected)
    document = new_document(session, spec, _default_title(files), files)
    jobs.create_for_document(session, document.id, spec.translate)
    return document


def new_document(
    session: Session, spec: NewDocument, default_title: str, files: Sequence[SourceFile] = ()
) -> Document:
    """The document row every way in creates (upload, PAGE/ALTO import, IIIF), flushed:
    languages and backend checked, collection, period and genre kept."""
    source_lang, target_lang = languages(spec)
    document = Document(
        title=storable(spec.title or "").strip()[:500] or default_title,
        source_lang=source_lang,
        target_lang=target_lang,
        status=DocumentStatus.PENDING,
        backend=backend_choice(spec.backend),
        model=(spec.model or "").strip() or None,
        translate=spec.translate,
        created_by=access.user_id(),
        collection_id=(
            _collection(session, spec.collection_id)
            if spec.collection_id
            else _collection_id(session, spec.collection)
        ),
        period=storable(spec.period or "").strip()[:100] or None,
        genre=storable(spec.genre or "").strip()[:100] or None,
    )
    if files:  # else left to load: an import adds its file rows by id once this is flushed
        document.files = list(files)
    session.add(document)
    session.flush()
    return document


def _collection_id(session: Session, name: str | None) -> int | None:
    """Id of the named collection, created on first use; None when no name is given."""
    cleaned = storable(name or "").strip()[:200]
    if not cleaned:
        return None
    existing = visible_named(session, cleaned)
    if len(existing) > 1:
        ids = ", ".join(str(i) for i in existing)
        raise InvalidInput(
            f"Several collections are named {cleaned!r} (ids {ids}); choose one by collection_id."
        )
    if existing:
        return existing[0]
    # A collection of that name the user may not see is not theirs to use, nor to learn
    # of: they get one of their own.
    collection = Collection(name=cleaned)
    session.add(collection)
    session.flush()
    join_collection(session, collection.id)
    return collection.id


def get_collection_or_raise(session: Session, collection_id: int) -> Collection:
    """A collection the current user may see, or NotFound."""
    collection = session.get(Collection, collection_id)
    if collection is None or not access.may_see(collection.id):
        raise NotFound(f"Collection {collection_id} does not exist.")
    return collection


def collection_documents(session: Session, collection_id: int) -> Sequence[Document]:
    """The documents of a collection, by title."""
    return session.scalars(
        select(Document).where(Document.collection_id == collection_id).order_by(Document.title)
    ).all()


def list_collections(session: Session) -> Sequence[Collection]:
    """The collections the current user may see (administrators: all), by name."""
    return session.scalars(_visible_collections(select(Collection)).order_by(Collection.name)).all()


def visible_named(session: Session, name: str) -> list[int]:
    """Ids of the collections of this name the current user may see."""
    query = select(Collection.id).where(Collection.name == name).order_by(Collection.id)
    return list(session.scalars(_visible_collections(query)))


def _visible_collections(query: Select[Any]) -> Select[Any]:
    ids = access.visible_collections()
    return query if ids is None else query.where(Collection.id.in_(ids))


def languages(spec: NewDocument) -> tuple[str, str]:
    """The document's source and target language tags, refused when they are the same."""
    source = normalise_tag(spec.source_lang)
    target = normalise_tag(spec.target_lang)
    if source.split("-")[0] == target.split("-")[0] and spec.translate:
        raise InvalidInput(f"Source and target language are both {target!r}.")
    return source, target


def check(spec: NewDocument) -> None:
    """Refuse the choices no document may have (same languages, unknown backend)."""
    languages(spec)
    backend_choice(spec.backend)


def backend_choice(backend: str | None) -> str | None:
    """The backend asked for (None: decided when translating), refused when unknown."""
    if backend in (None, "", "auto"):
        return None
    if backend not in BACKENDS:
        raise InvalidInput(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    return backend


def _collection(session: Session, collection_id: int | None) -> int | None:
    if collection_id is not None and (
        session.get(Collection, collection_id) is None or not access.may_see(collection_id)
    ):
        raise InvalidInput(f"Collection {collection_id} does not exist.")
    return collection_id


def _default_title(files: Sequence[SourceFile]) -> str:
    """The first accepted file's name, without its extension (never a refused file's)."""
    names = [Path(f.filename).stem for f in files if f.status is FileStatus.ACCEPTED]
    return next((n for n in names if n), "Untitled document")


def _store_upload(
    storage: Storage, position: int, upload: Upload, limits: tuple[int, int | None]
) -> SourceFile:
    max_bytes, max_pixels = limits
    filename = storable(Path(upload.filename or f"file-{position + 1}").name)[:500]
    head = upload.stream.read(SNIFF_BYTES)
    upload.stream.seek(0)
    row = SourceFile(position=position, filename=filename, size=0)
    if upload.error:
        return _refused(row, upload.error)
    try:
        row.media_type = sniff(head)
    except UnreadableFile as exc:
        return _refused(row, exc.message)
    try:
        row.sha256, row.size = storage.put_stream(upload.stream, max_bytes)
    except TooLarge:
        return _refused(row, f"The file is larger than the {human_bytes(max_bytes)} limit.")
    upload.stream.seek(0)  # the header is read from the upload: no copy fetched back
    size = header_size(upload.stream, MediaType(row.media_type)) if max_pixels else None
    if max_pixels and size and size[0] * size[1] > max_pixels:
        return _refused(row, too_many_pixels(size, max_pixels))
    row.status = FileStatus.ACCEPTED
    return row


def _refused(row: SourceFile, reason: str) -> SourceFile:
    row.status = FileStatus.FAILED
    row.error = reason
    return row


def ingest(
    session: Session, document: Document, storage: Storage, limits: IngestLimits | None = None
) -> list[Page]:
    """Count each accepted file's pages and create their rows; a bad file fails alone."""
    number = page_count(session, document.id)
    for source in document.files:
        if source.status is not FileStatus.ACCEPTED:
            continue
        try:
            with storage.local_file(_sha(source)) as path:
                pages = checked_page_count(path, source, limits or IngestLimits())
        except UnreadableFile as exc:
            _refused(source, exc.message)
            continue
        except Exception as exc:  # whatever else reading one file raises, it fails alone
            log.exception("could not read file %s of document %s", source.id, document.id)
            _refused(source, f"The file cannot be read: {type(exc).__name__}: {exc}"[:2000])
            continue
        for index in range(pages):
            number += 1
            session.add(
                Page(
                    document_id=document.id,
                    file_id=source.id,
                    number=number,
                    file_index=index,
                    ocr_status=OcrStatus.PENDING,
                )
            )
        source.page_count = pages
        source.status = FileStatus.INGESTED
    session.flush()
    return list(
        session.scalars(select(Page).where(Page.document_id == document.id).order_by(Page.number))
    )


def checked_page_count(path: Path, source: SourceFile, limits: IngestLimits) -> int:
    """Page count of a stored file, refusing PDFs with too many pages and oversized images
    (read from headers: nothing is decoded)."""
    media_type = MediaType(source.media_type or "")
    size = header_size(path, media_type)
    if size and size[0] * size[1] > limits.max_image_pixels:
        raise UnreadableFile(too_many_pixels(size, limits.max_image_pixels))
    pages = count_pages(path, media_type)
    if pages > limits.max_pdf_pages:
        raise UnreadableFile(
            f"The PDF has {pages} pages; the limit is {limits.max_pdf_pages} per file. "
            "Split it, or raise PALIMPSEST_MAX_PDF_PAGES."
        )
    return pages


def _sha(source: SourceFile) -> str:
    if source.sha256 is None:
        raise UnreadableFile("The file was not stored.")
    return source.sha256


def page_count(session: Session, document_id: int) -> int:
    """How many pages the document has (its last page's number)."""
    return (
        session.scalar(
            select(func.coalesce(func.max(Page.number), 0)).where(Page.document_id == document_id)
        )
        or 0
    )


def get(session: Session, document_id: int) -> Document | None:
    """Return a document or None."""
    return session.get(Document, document_id)


def get_or_raise(session: Session, document_id: int, with_pages: bool = True) -> Document:
    """Return a document with its files (and pages, unless a 500-page book needs only one),
    or raise DocumentNotFound."""
    loads = [selectinload(Document.files)]
    if with_pages:
        loads.append(selectinload(Document.pages))
    document = session.scalars(
        select(Document).where(Document.id == document_id).options(*loads)
    ).one_or_none()
    # A document the user may not see does not exist for them (no existence leak).
    if document is None or not access.may_see(document.collection_id):
        raise DocumentNotFound(f"Document {document_id} does not exist.")
    return document


def page_by_number(session: Session, document_id: int, number: int) -> Page | None:
    """One page of a document by its number."""
    return session.scalar(
        select(Page).where(Page.document_id == document_id, Page.number == number)
    )


def get_page_or_raise(session: Session, page_id: int) -> Page:
    """Return a page or raise PageNotFound."""
    page = session.get(Page, page_id)
    if page is None or not access.may_see(page.document.collection_id):
        raise PageNotFound(f"Page {page_id} does not exist.")
    return page


def get_segment_or_raise(session: Session, segment_id: int) -> Segment:
    """Return a segment or raise SegmentNotFound."""
    segment = session.get(Segment, segment_id)
    if segment is None or not access.may_see(segment.page.document.collection_id):
        raise SegmentNotFound(f"Segment {segment_id} does not exist.")
    return segment


def visible(query: Select[Any]) -> Select[Any]:
    """Restrict a query over documents to those the current user may see."""
    collections = access.visible_collections()
    if collections is None:
        return query
    return query.where(Document.collection_id.is_(None) | Document.collection_id.in_(collections))


def page_image(
    session: Session, storage: Storage, page_id: int, as_read: bool = False
) -> tuple[Iterator[bytes], str]:
    """The bytes (streamed from the store) and media type of a page's display image, or of
    the image its boxes refer to: the one the OCR read where preparing changed more than
    its colours, else the same."""
    page = get_page_or_raise(session, page_id)
    sha = (page.ocr_image_sha256 or page.image_sha256) if as_read else page.image_sha256
    if not sha:
        raise PageNotFound(f"Page {page_id} has no image yet.")
    stream = storage.open(sha)
    head = stream.read(SNIFF_BYTES)
    try:
        media_type = sniff(head).value
    except BaseException:
        stream.close()
        raise
    return _chunks(head, stream), media_type


def _chunks(head: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    """The first bytes already read, then the rest of the stream chunk by chunk."""
    try:
        yield head
        while chunk := stream.read(256 * 1024):
            yield chunk
    finally:
        stream.close()


def list_documents(session: Session, limit: int = 100, offset: int = 0) -> Sequence[Document]:
    """Documents, newest first."""
    return session.scalars(
        visible(select(Document))
        .order_by(Document.created_at.desc(), Document.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()


def page_counts(session: Session, document_ids: list[int]) -> dict[int, int]:
    """Number of pages of each document (one query)."""
    if not document_ids:
        return {}
    rows = session.execute(
        select(Page.document_id, func.count())
        .where(Page.document_id.in_(document_ids))
        .group_by(Page.document_id)
    )
    return {doc_id: int(n) for doc_id, n in rows}


def delete(session: Session, document_id: int) -> list[str]:
    """Delete a document and everything derived from it; return blobs no longer referenced.

    Rows go by cascade (files, pages, segments, translations, annotations, edits, jobs); the
    caller removes the returned blobs from storage after the commit succeeded.
    """
    document = get_or_raise(session, document_id)
    digests = {f.sha256 for f in document.files if f.sha256}
    digests |= {p.image_sha256 for p in document.pages if p.image_sha256}
    digests |= {p.ocr_image_sha256 for p in document.pages if p.ocr_image_sha256}
    session.expunge(document)
    session.execute(sql_delete(Document).where(Document.id == document_id))
    return sorted(d for d in digests if not _blob_in_use(session, d))


def _blob_in_use(session: Session, digest: str) -> bool:
    """Whether another document still uses a stored file (the same scan uploaded twice)."""
    in_files = select(SourceFile.id).where(SourceFile.sha256 == digest).limit(1)
    in_pages = (
        select(Page.id)
        .where((Page.image_sha256 == digest) | (Page.ocr_image_sha256 == digest))
        .limit(1)
    )
    return session.scalar(in_files) is not None or session.scalar(in_pages) is not None
