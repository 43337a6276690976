"""Choosing an export format and producing the file: one document, or a collection as a zip.

Every writer streams into a binary file object page by page; callers hand in a spooled
temporary file (the API) or the output file itself (the CLI), so memory stays flat.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.documents import service as documents
from service.documents.models import Collection, Document, Page
from service.documents.service import get_collection_or_raise
from service.errors import PageNotFound, PalimpsestError
from service.exports import alto, docx, iiif, pagexml, pdf, tabular, tei, tmx, txt
from service.exports.model import ExportDocument, ExportOptions, load
from service.storage import Storage, get_storage

log = logging.getLogger(__name__)
SPOOL_BYTES = 16 * 1024 * 1024


class ExportFormat(StrEnum):
    """Formats the API, UI and CLI offer."""

    TXT = "txt"
    MD = "md"
    TEI = "tei"
    PAGE = "page"
    ALTO = "alto"
    TMX = "tmx"
    DOCX = "docx"
    JSON = "json"
    CSV = "csv"
    PDF = "pdf"
    IIIF = "iiif"


Writer = Callable[[ExportDocument, IO[bytes], Storage], None]


@dataclass(frozen=True)
class FormatInfo:
    """How a format is written and sent."""

    label: str
    media_type: str
    extension: str
    write: Writer


FORMATS: dict[ExportFormat, FormatInfo] = {
    ExportFormat.TEI: FormatInfo(
        "TEI P5", "application/tei+xml", "tei.xml", lambda d, o, _: tei.write(d, o)
    ),
    ExportFormat.PAGE: FormatInfo(
        "PAGE XML (zip)", "application/zip", "page.zip", pagexml.write_zip
    ),
    ExportFormat.ALTO: FormatInfo(
        "ALTO 4.4", "application/xml", "alto.xml", lambda d, o, _: alto.write(d, o)
    ),
    ExportFormat.TMX: FormatInfo(
        "TMX 1.4b", "application/x-tmx+xml", "tmx", lambda d, o, _: tmx.write(d, o)
    ),
    ExportFormat.DOCX: FormatInfo(
        "Word (DOCX)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        lambda d, o, _: docx.write(d, o),
    ),
    ExportFormat.PDF: FormatInfo("Searchable PDF", "application/pdf", "pdf", pdf.write),
    ExportFormat.IIIF: FormatInfo(
        "IIIF Presentation 3 (zip)", "application/zip", "iiif.zip", iiif.write_zip
    ),
    ExportFormat.JSON: FormatInfo(
        "JSON", "application/json", "json", lambda d, o, _: tabular.write_json(d, o)
    ),
    ExportFormat.CSV: FormatInfo(
        "CSV", "text/csv; charset=utf-8", "csv", lambda d, o, _: tabular.write_csv(d, o)
    ),
    ExportFormat.MD: FormatInfo(
        "Markdown", "text/markdown; charset=utf-8", "md", lambda d, o, _: txt.write_markdown(d, o)
    ),
    ExportFormat.TXT: FormatInfo(
        "Plain text", "text/plain; charset=utf-8", "txt", lambda d, o, _: txt.write_text(d, o)
    ),
}


@dataclass(frozen=True)
class ExportFile:
    """An export ready to send or write."""

    content: bytes
    media_type: str
    filename: str


def file_name(
    title: str, document_id: int, fmt: ExportFormat, options: ExportOptions | None = None
) -> str:
    """The download name, after the document's title: `Discours-academique[-pA-B].EXT`."""
    pages = ""
    if options is not None and (options.first_page or options.last_page):
        pages = f"-p{options.first_page or 1}-{options.last_page or 'end'}"
    return f"{_slug(title, 80) or f'document-{document_id}'}{pages}.{FORMATS[fmt].extension}"


def export_to(
    session: Session,
    document_id: int,
    fmt: ExportFormat,
    out: IO[bytes],
    options: ExportOptions | None = None,
    storage: Storage | None = None,
) -> str:
    """Write a document in the requested format into `out`; return the file name."""
    document = load(session, document_id, options)
    FORMATS[fmt].write(document, out, storage or get_storage())
    return file_name(document.title, document_id, fmt, options)


def export(
    session: Session,
    document_id: int,
    fmt: ExportFormat,
    options: ExportOptions | None = None,
    storage: Storage | None = None,
) -> ExportFile:
    """Render a document in the requested format into memory (small documents, tests)."""
    buffer = io.BytesIO()
    name = export_to(session, document_id, fmt, buffer, options, storage)
    return ExportFile(buffer.getvalue(), FORMATS[fmt].media_type, name)


def iiif_manifest(
    session: Session, document_id: int, links: iiif.LiveLinks, storage: Storage | None = None
) -> dict[str, Any]:
    """The document's IIIF manifest as the API serves it (canvases, image routes, and the
    routes of the annotation pages)."""
    return iiif.live_manifest(load(session, document_id), links, storage or get_storage())


def iiif_annotations(
    session: Session, document_id: int, number: int, links: iiif.LiveLinks
) -> dict[str, Any]:
    """One page's IIIF annotation page: transcription, translation, reviewers' annotations."""
    document = documents.get_or_raise(session, document_id, with_pages=False)
    if number < 1 or session.scalar(_page_query(document.id, number)) is None:
        raise PageNotFound(f"Document {document_id} has no page {number}.")
    chosen = ExportOptions(first_page=number, last_page=number)
    return iiif.live_annotation_page(load(session, document_id, chosen), links)


def _page_query(document_id: int, number: int) -> Select[Any]:
    return select(Page.id).where(Page.document_id == document_id, Page.number == number)


def spooled(
    session: Session,
    document_id: int,
    fmt: ExportFormat,
    options: ExportOptions | None = None,
    storage: Storage | None = None,
) -> tuple[IO[bytes], str]:
    """Export into a rewound temporary file (in memory while small); return it and the name."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - caller closes
    try:
        name = export_to(session, document_id, fmt, spool, options, storage)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, name


def collection_file_name(collection: Collection, fmt: ExportFormat) -> str:
    """The download name of a collection export."""
    return f"{_slug(collection.name, 80) or f'collection-{collection.id}'}-{fmt.value}.zip"


def export_collection(
    session: Session,
    collection_id: int,
    fmt: ExportFormat,
    out: IO[bytes],
    options: ExportOptions | None = None,
    storage: Storage | None = None,
) -> str:
    """Zip one export per document of the collection; a document that fails is listed in
    ERRORS.txt and the others are still exported. Returns the zip's file name."""
    collection = get_collection_or_raise(session, collection_id)
    ids = session.scalars(
        select(Document.id).where(Document.collection_id == collection_id).order_by(Document.id)
    ).all()
    errors: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for document_id in ids:
            _add_document(session, archive, document_id, fmt, options, storage, errors)
        if errors:
            archive.writestr("ERRORS.txt", "\n".join(errors) + "\n")
    return collection_file_name(collection, fmt)


def _add_document(
    session: Session,
    archive: zipfile.ZipFile,
    document_id: int,
    fmt: ExportFormat,
    options: ExportOptions | None,
    storage: Storage | None,
    errors: list[str],
) -> None:
    try:
        spool, name = spooled(session, document_id, fmt, options, storage)
    except PalimpsestError as exc:
        log.warning("collection export: document %s failed: %s", document_id, exc.message)
        errors.append(f"document {document_id}: {exc.message}")
        return
    # Two documents of a collection may share a title: the id keeps the names apart.
    stem, _, extension = name.partition(".")
    with spool, archive.open(f"{stem}-{document_id}.{extension}", "w", force_zip64=True) as member:
        shutil.copyfileobj(spool, member, 1024 * 1024)


def _slug(text: str, limit: int) -> str:
    """Letters and digits of any script kept, every other run of characters one hyphen."""
    return re.sub(r"[\W_]+", "-", text).strip("-")[:limit].strip("-")


def ascii_name(name: str) -> str:
    """A file name in ASCII for clients that ignore `filename*` (accents dropped)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._-]+", "-", plain).strip("-") or "export"
