"""Export downloads: a document (or a page range of it) in any format, a collection as a zip."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from service.config import Settings, get_settings
from service.deps import SessionDep, StorageDep
from service.documents.schemas import parse_page_number
from service.errors import InvalidInput
from service.exports import iiif, service
from service.exports.model import Arrangement, ExportOptions, SourceLayer
from service.exports.service import FORMATS, ExportFormat

router = APIRouter(prefix="/api", tags=["exports"])
CHUNK = 256 * 1024


def export_options(
    settings: Annotated[Settings, Depends(get_settings)],
    first_page: Annotated[str | None, Query(description="first page to export")] = None,
    last_page: Annotated[str | None, Query(description="last page to export")] = None,
    source: Annotated[SourceLayer, Query(description="source text layer")] = SourceLayer.BOTH,
    translation: Annotated[bool, Query(description="include the translation")] = True,
    annotations: Annotated[bool, Query(description="include annotations")] = True,
    approved_only: Annotated[bool, Query(description="only segments approved in review")] = False,
    layout: Annotated[Arrangement, Query(description="txt/md: interleaved or side by side")] = (
        Arrangement.INTERLEAVED
    ),
    images: Annotated[bool, Query(description="page: put the page images in the zip")] = False,
    bilingual: Annotated[bool, Query(description="pdf: each scan faces its translation")] = False,
    flagged: Annotated[
        bool, Query(description="tmx: false leaves out units whose translation needs checking")
    ] = True,
    base_url: Annotated[
        str | None, Query(description="iiif: the URL the zip will be hosted at (else relative)")
    ] = None,
) -> ExportOptions:
    """The export choices from the query string (an empty page field means no limit)."""
    first, last = _page_number(first_page, "first_page"), _page_number(last_page, "last_page")
    if first and last and last < first:
        raise InvalidInput(f"last_page ({last}) is before first_page ({first}).")
    return ExportOptions(
        first_page=first,
        last_page=last,
        source=source,
        translation=translation,
        annotations=annotations,
        approved_only=approved_only,
        arrangement=layout,
        images=images,
        bilingual=bilingual,
        low_confidence=settings.low_confidence,
        flagged=flagged,
        base_url=iiif.check_base_url(base_url),
    )


def _page_number(value: str | None, name: str) -> int | None:
    if value is None or not value.strip():
        return None
    return parse_page_number(value, name)


OptionsDep = Annotated[ExportOptions, Depends(export_options)]


@router.get("/documents/{document_id}/export")
def export_document(
    session: SessionDep,
    storage: StorageDep,
    document_id: int,
    options: OptionsDep,
    format: Annotated[ExportFormat, Query()] = ExportFormat.TEI,
) -> StreamingResponse:
    """Download the document (or a page range) in one format, streamed."""
    spool, name = service.spooled(session, document_id, format, options, storage)
    return _send(spool, name, FORMATS[format].media_type)


@router.get("/collections/{collection_id}/export")
def export_collection(
    session: SessionDep,
    storage: StorageDep,
    collection_id: int,
    options: OptionsDep,
    format: Annotated[ExportFormat, Query()] = ExportFormat.TEI,
) -> StreamingResponse:
    """Download every document of a collection in one format, as a zip."""
    spool = tempfile.SpooledTemporaryFile(max_size=service.SPOOL_BYTES)  # noqa: SIM115
    try:
        name = service.export_collection(session, collection_id, format, spool, options, storage)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return _send(spool, name, "application/zip")


IIIF_JSON = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'


@router.get("/documents/{document_id}/iiif/manifest.json")
def iiif_manifest(
    request: Request, session: SessionDep, storage: StorageDep, document_id: int
) -> JSONResponse:
    """The document as a IIIF Presentation 3 manifest, for a viewer on this site."""
    links = iiif.LiveLinks(str(request.base_url), document_id)
    return JSONResponse(
        service.iiif_manifest(session, document_id, links, storage), 200, None, IIIF_JSON
    )


@router.get("/documents/{document_id}/iiif/annotations/{number}.json")
def iiif_annotations(
    request: Request, session: SessionDep, document_id: int, number: int
) -> JSONResponse:
    """One page's annotations (transcription, translation, tags) for the live manifest."""
    links = iiif.LiveLinks(str(request.base_url), document_id)
    return JSONResponse(
        service.iiif_annotations(session, document_id, number, links), 200, None, IIIF_JSON
    )


def _send(spool: IO[bytes], name: str, media_type: str) -> StreamingResponse:
    return StreamingResponse(
        _chunks(spool),
        media_type=media_type,
        headers={
            "Content-Disposition": (
                f'attachment; filename="{service.ascii_name(name)}"; '
                f"filename*=UTF-8''{quote(name, safe='')}"
            )
        },
        background=BackgroundTask(spool.close),
    )


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    while chunk := spool.read(CHUNK):
        yield chunk
