"""Creating a document from transcriptions made elsewhere (PAGE XML or ALTO with their page
images): the files' text layer replaces OCR, and the document goes straight to translation.

Each XML file is paired with its image by the file name the XML records (PAGE
`imageFilename`, ALTO `sourceImageInformation/fileName`), else by a shared stem, else —
one XML and one image — with each other. A file that cannot be used is reported with its
reason and the others are imported.

The web request only reads the transcriptions (bounded) and streams each paired image into
storage (see `unpack`); it never decodes an image. The ingest step, in a worker, decodes
each image, makes the browser's copy where needed, and creates the pages and segments.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

from service.documents import service as documents
from service.documents.archives import ZipLimits
from service.documents.files import SNIFF_BYTES, MediaType, decode_for_display, sniff
from service.documents.models import (
    Document,
    FileStatus,
    OcrStatus,
    Page,
    Segment,
    SegmentKind,
    SourceFile,
)
from service.documents.service import IngestLimits, NewDocument, Upload
from service.errors import NoUsableFile, UnreadableFile
from service.imports import page_alto, unpack
from service.jobs import service as jobs
from service.storage import Storage, TooLarge
from service.text import normalise, storable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Stored:
    sha256: str
    size: int
    media_type: MediaType


def create(
    session: Session,
    storage: Storage,
    spec: NewDocument,
    uploads: Sequence[Upload],
    limits: ZipLimits,
) -> Document:
    """Store PAGE/ALTO files with their images as a new document, for the ingest step to
    read (OCR is skipped); each unusable file is recorded as failed with its reason."""
    documents.check(spec)
    found = unpack.unpack(uploads, limits)
    if not found.transcriptions:
        raise NoUsableFile(
            "No PAGE or ALTO file among the uploads.", found.rejected or [("", "no .xml file")]
        )
    parsed = _parse(found)
    stem = PurePosixPath(found.transcriptions[0].name).stem
    document = documents.new_document(session, spec, stem)
    files = _store_pairs(storage, document, parsed, found, limits)
    if not files:
        raise NoUsableFile("None of the transcriptions could be imported.", found.rejected)
    for name, why in found.rejected:
        files.append(_failed(document, len(files), name, why))
    session.add_all(files)
    session.flush()
    jobs.create_for_document(session, document.id, document.translate)
    return document


def _parse(found: unpack.Unpacked) -> list[tuple[unpack.Transcription, page_alto.Layout]]:
    parsed = []
    for item in found.transcriptions:
        try:
            parsed.append((item, page_alto.parse(item.data, item.name)))
        except UnreadableFile as exc:
            found.rejected.append((item.name, exc.message))
    return parsed


def _store_pairs(
    storage: Storage,
    document: Document,
    parsed: list[tuple[unpack.Transcription, page_alto.Layout]],
    found: unpack.Unpacked,
    limits: ZipLimits,
) -> list[SourceFile]:
    """A file row per transcription whose image could be stored (each image stored once)."""
    files: list[SourceFile] = []
    stored: dict[str, _Stored] = {}
    for item, layout in parsed:
        try:
            image = _pair(item.name, layout, found.images, len(found.transcriptions))
            if image.name not in stored:
                stored[image.name] = _store_image(storage, image, found, limits)
        except UnreadableFile as exc:
            found.rejected.append((item.name, exc.message))
            continue
        blob = stored[image.name]
        files.append(
            SourceFile(
                document_id=document.id,
                position=len(files),
                filename=storable(image.name)[:500],
                sha256=blob.sha256,
                size=blob.size,
                media_type=blob.media_type.value,
                status=FileStatus.ACCEPTED,
                layout_sha256=storage.put_bytes(item.data),
                layout_filename=storable(item.name)[:500],
            )
        )
    return files


def _store_image(
    storage: Storage, image: unpack.ImageSource, found: unpack.Unpacked, limits: ZipLimits
) -> _Stored:
    """Stream an image into storage after a look at its first bytes (never decoded here)."""
    allowed = min(limits.max_file_bytes, limits.max_total_bytes - found.read)
    try:
        with image.open() as stream:
            media_type = sniff(stream.read(SNIFF_BYTES))
        if media_type is MediaType.PDF:
            raise UnreadableFile(f"{image.name} is a PDF; give the page images the XML describes.")
        with image.open() as stream:
            digest, size = storage.put_stream(stream, allowed)
    except TooLarge:
        found.read += allowed
        reason = unpack.too_large(allowed, limits.max_file_bytes, limits)
        raise UnreadableFile(f"its page image {image.name} {reason}") from None
    except unpack.ENTRY_ERRORS as exc:
        raise UnreadableFile(f"its page image {image.name} cannot be read: {exc}") from exc
    except UnreadableFile as exc:
        raise UnreadableFile(f"its page image {image.name}: {exc.message}") from exc
    found.read += size
    return _Stored(digest, size, media_type)


def _failed(document: Document, position: int, name: str, why: str) -> SourceFile:
    return SourceFile(
        document_id=document.id,
        position=position,
        filename=storable(name)[:500] or "file",
        size=0,
        status=FileStatus.FAILED,
        error=storable(why)[:2000],
    )


def _pair(
    name: str, layout: page_alto.Layout, images: dict[str, unpack.ImageSource], xml_count: int
) -> unpack.ImageSource:
    if layout.image_name in images:
        return images[layout.image_name]
    stem = _xml_stem(name)
    for image_name, image in images.items():
        if PurePosixPath(image_name).stem in (stem, PurePosixPath(layout.image_name).stem):
            return image
    if xml_count == 1 and len(images) == 1:
        return next(iter(images.values()))
    wanted = layout.image_name or f"{stem}.*"
    raise UnreadableFile(f"its page image {wanted} is not among the uploaded files.")


def _xml_stem(name: str) -> str:
    """`0001.page.xml` → `0001`: the name an image of the same page would share."""
    stem = PurePosixPath(name).stem
    while stem.lower().endswith((".page", ".alto", ".xml")):
        stem = PurePosixPath(stem).stem
    return stem


def is_import(document: Document) -> bool:
    """Whether the document's text comes from imported transcriptions (no OCR)."""
    return any(f.layout_sha256 for f in document.files)


def ingest(
    session: Session, document: Document, storage: Storage, limits: IngestLimits | None = None
) -> list[Page]:
    """Decode each imported image and create its page and segments (in a worker); a file
    that cannot be used fails alone with its reason."""
    pages: list[Page] = []
    for source in document.files:
        if source.status is not FileStatus.ACCEPTED or not source.layout_sha256:
            continue
        try:
            page = _add_page(session, storage, source, len(pages) + 1, limits or IngestLimits())
        except UnreadableFile as exc:
            _refuse(source, exc.message)
            continue
        except Exception as exc:  # whatever else reading one file raises, it fails alone
            log.exception("could not import file %s of document %s", source.id, document.id)
            _refuse(source, f"The file cannot be read: {type(exc).__name__}: {exc}")
            continue
        pages.append(page)
    session.flush()
    return pages


def ocr_detail(pages: Sequence[Page]) -> str:
    """What the OCR stage says of an import."""
    engines = sorted({p.ocr_engine or "" for p in pages})
    return f"text imported ({', '.join(engines)}); OCR skipped"


def _refuse(source: SourceFile, reason: str) -> None:
    source.status = FileStatus.FAILED
    source.error = storable(reason)[:2000]


def _add_page(
    session: Session, storage: Storage, source: SourceFile, number: int, limits: IngestLimits
) -> Page:
    layout = page_alto.parse(
        storage.read_bytes(source.layout_sha256 or ""), source.layout_filename or ""
    )
    with storage.local_file(source.sha256 or "") as path:
        documents.checked_page_count(path, source, limits)  # the megapixel limit, with reason
        size, display = decode_for_display(path, MediaType(source.media_type or ""))
    page = Page(
        document_id=source.document_id,
        file_id=source.id,
        number=number,
        file_index=0,
        image_sha256=storage.put_bytes(display) if display is not None else source.sha256,
        width=size[0],
        height=size[1],
        ocr_status=OcrStatus.DONE,
        ocr_engine=_engine(layout)[:100],
    )
    session.add(page)
    session.flush()
    _add_segments(session, page, layout, size)
    source.page_count = 1
    source.status = FileStatus.INGESTED
    return page


def _engine(layout: page_alto.Layout) -> str:
    return f"import {layout.format}" + (f" ({layout.creator})" if layout.creator else "")


def _add_segments(
    session: Session, page: Page, layout: page_alto.Layout, size: tuple[int, int]
) -> None:
    sx = size[0] / layout.width if layout.width else 1.0
    sy = size[1] / layout.height if layout.height else 1.0
    confidences = []
    for position, region in enumerate(layout.regions):
        segment = _segment(page, position, region, sx, sy)
        session.add(segment)
        if segment.confidence is not None:
            confidences.append(segment.confidence)
    page.mean_confidence = sum(confidences) / len(confidences) if confidences else None
    session.flush()


def _segment(page: Page, position: int, region: page_alto.Region, sx: float, sy: float) -> Segment:
    x0, y0, x1, y1 = _scale_box(region.bbox, sx, sy)
    words = [w for line in region.lines for w in line.words if w.conf is not None]
    text = storable(region.text)
    return Segment(
        document_id=page.document_id,
        page_id=page.id,
        position=position,
        kind=SegmentKind(region.kind),
        text=text,
        normalized=storable(normalise(text)),
        x0=x0,
        y0=y0,
        x1=x1,
        y1=y1,
        lines=[_line_json(line, sx, sy) for line in region.lines],
        confidence=sum(w.conf or 0 for w in words) / len(words) if words else None,
        min_confidence=min((w.conf or 0 for w in words), default=None),
    )


def _scale_box(box: page_alto.BBox, sx: float, sy: float) -> tuple[int, int, int, int]:
    return (round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy))


def _scale_points(points: list[page_alto.Point], sx: float, sy: float) -> list[list[int]]:
    return [[round(x * sx), round(y * sy)] for x, y in points]


def _line_json(line: page_alto.Line, sx: float, sy: float) -> dict[str, Any]:
    return {
        "bbox": list(_scale_box(line.bbox, sx, sy)),
        "text": storable(line.text),
        "polygon": _scale_points(line.polygon, sx, sy),
        "baseline": _scale_points(line.baseline, sx, sy),
        "words": [
            {
                "text": storable(w.text),
                "bbox": list(_scale_box(w.bbox, sx, sy)),
                "conf": w.conf,
                "polygon": _scale_points(w.polygon, sx, sy),
            }
            for w in line.words
        ],
    }
