"""Creating a document from transcriptions made elsewhere (PAGE XML or ALTO with their page
images): the files' text layer replaces OCR, and the document goes straight to translation.

Each XML file is paired with its image by the file name the XML records (PAGE
`imageFilename`, ALTO `sourceImageInformation/fileName`), else by a shared stem, else —
one XML and one image — with each other. A file that cannot be used is reported with its
reason and the others are imported.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from service.documents.files import BROWSER_IMAGES, MediaType, encode_display, sniff
from service.documents.models import (
    Document,
    DocumentStatus,
    FileStatus,
    OcrStatus,
    Page,
    Segment,
    SegmentKind,
    SourceFile,
)
from service.documents.service import NewDocument, Upload
from service.errors import InvalidInput, NoUsableFile, UnreadableFile
from service.imports import layouts
from service.jobs import service as jobs
from service.jobs.models import JobStage
from service.ocr.languages import normalise_tag
from service.ocr.text import normalise, storable
from service.storage import Storage

XML_SUFFIXES = (".xml", ".page", ".alto")
MAX_ZIP_MEMBERS = 5000


@dataclass
class _File:
    name: str
    data: bytes


def create(
    session: Session,
    storage: Storage,
    spec: NewDocument,
    uploads: Sequence[Upload],
    max_bytes: int,
) -> Document:
    """Import PAGE/ALTO files with their images as a new document (OCR already done)."""
    source_lang, target_lang = _languages(spec)
    files, rejected = _read_uploads(uploads, max_bytes)
    xml = [f for f in files if _is_xml(f)]
    images = {f.name: f for f in files if not _is_xml(f)}
    if not xml:
        raise NoUsableFile(
            "No PAGE or ALTO file among the uploads.", rejected or [("", "no .xml file")]
        )
    document = Document(
        title=storable(spec.title or "").strip()[:500] or PurePosixPath(xml[0].name).stem,
        source_lang=source_lang,
        target_lang=target_lang,
        status=DocumentStatus.PROCESSING,
        backend=None if spec.backend in (None, "", "auto") else spec.backend,
        model=(spec.model or "").strip() or None,
        translate=spec.translate,
    )
    session.add(document)
    session.flush()
    pages = _import_pages(session, storage, document, xml, images, rejected)
    if not pages:
        raise NoUsableFile("None of the transcriptions could be imported.", rejected)
    _record_jobs(session, document, len(xml) + len(images), pages, rejected)
    return document


def _languages(spec: NewDocument) -> tuple[str, str]:
    source, target = normalise_tag(spec.source_lang), normalise_tag(spec.target_lang)
    if spec.translate and source.split("-")[0] == target.split("-")[0]:
        raise InvalidInput(f"Source and target language are both {target!r}.")
    return source, target


def _is_xml(upload: _File) -> bool:
    return upload.name.lower().endswith(XML_SUFFIXES) or upload.data.lstrip()[:1] == b"<"


def _read_uploads(
    uploads: Sequence[Upload], max_bytes: int
) -> tuple[list[_File], list[tuple[str, str]]]:
    files: list[_File] = []
    rejected: list[tuple[str, str]] = []
    for upload in uploads:
        name = PurePosixPath(upload.filename or "file").name
        data = upload.stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            rejected.append((name, f"larger than the {max_bytes // (1024 * 1024)} MB limit"))
        elif data[:4] == b"PK\x03\x04":
            files.extend(_unzip(name, data, max_bytes, rejected))
        else:
            files.append(_File(name, data))
    return files, rejected


def _unzip(name: str, data: bytes, max_bytes: int, rejected: list[tuple[str, str]]) -> list[_File]:
    """The files of a Transkribus/eScriptorium export zip (folders flattened)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        rejected.append((name, "not a readable zip file"))
        return []
    members = [m for m in archive.infolist() if not m.is_dir()][:MAX_ZIP_MEMBERS]
    found = []
    for member in sorted(members, key=lambda m: m.filename):
        base = PurePosixPath(member.filename).name
        if base.startswith(".") or member.file_size > max_bytes:
            continue
        if base.lower().endswith(("mets.xml", "metadata.xml", "doc.xml")):
            continue  # Transkribus/eScriptorium bookkeeping, not pages
        found.append(_File(base, archive.read(member)))
    return found


def _import_pages(
    session: Session,
    storage: Storage,
    document: Document,
    xml: list[_File],
    images: dict[str, _File],
    rejected: list[tuple[str, str]],
) -> list[Page]:
    pages: list[Page] = []
    position = 0
    for item in xml:
        try:
            layout = layouts.parse(item.data, item.name)
            image = _pair(item, layout, images, len(xml))
            page = _add_page(session, storage, document, layout, image, position, len(pages) + 1)
        except UnreadableFile as exc:
            rejected.append((item.name, exc.message))
            continue
        position += 1
        pages.append(page)
    return pages


def _pair(item: _File, layout: layouts.Layout, images: dict[str, _File], xml_count: int) -> _File:
    if layout.image_name in images:
        return images[layout.image_name]
    stem = _xml_stem(item.name)
    for name, image in images.items():
        if PurePosixPath(name).stem in (stem, PurePosixPath(layout.image_name).stem):
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


def _add_page(
    session: Session,
    storage: Storage,
    document: Document,
    layout: layouts.Layout,
    image: _File,
    position: int,
    number: int,
) -> Page:
    media_type, size, display = _image(image, storage)
    source = SourceFile(
        document_id=document.id,
        position=position,
        filename=storable(image.name)[:500],
        sha256=storage.put_bytes(image.data),
        size=len(image.data),
        media_type=media_type.value,
        page_count=1,
        status=FileStatus.INGESTED,
    )
    session.add(source)
    session.flush()
    page = Page(
        document_id=document.id,
        file_id=source.id,
        number=number,
        file_index=0,
        image_sha256=display,
        width=size[0],
        height=size[1],
        ocr_status=OcrStatus.DONE,
        ocr_engine=_engine(layout)[:100],
    )
    session.add(page)
    session.flush()
    _add_segments(session, page, layout, size)
    return page


def _engine(layout: layouts.Layout) -> str:
    return f"import {layout.format}" + (f" ({layout.creator})" if layout.creator else "")


def _image(image: _File, storage: Storage) -> tuple[MediaType, tuple[int, int], str]:
    """The image's type, size, and the digest of a copy browsers can show."""
    media_type = sniff(image.data[:1024])
    if media_type is MediaType.PDF:
        raise UnreadableFile(f"{image.name} is a PDF; give the page images the XML describes.")
    try:
        with Image.open(io.BytesIO(image.data)) as opened:
            opened.load()
            size = opened.size
            if media_type in BROWSER_IMAGES:
                return media_type, size, storage.put_bytes(image.data)
            return media_type, size, storage.put_bytes(encode_display(opened))
    except (OSError, Image.DecompressionBombError) as exc:
        raise UnreadableFile(f"{image.name} cannot be decoded: {exc}") from exc


def _add_segments(
    session: Session, page: Page, layout: layouts.Layout, size: tuple[int, int]
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


def _segment(page: Page, position: int, region: layouts.Region, sx: float, sy: float) -> Segment:
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


def _scale_box(box: layouts.BBox, sx: float, sy: float) -> tuple[int, int, int, int]:
    return (round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy))


def _scale_points(points: list[layouts.Point], sx: float, sy: float) -> list[list[int]]:
    return [[round(x * sx), round(y * sy)] for x, y in points]


def _line_json(line: layouts.Line, sx: float, sy: float) -> dict[str, Any]:
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


def _record_jobs(
    session: Session,
    document: Document,
    file_count: int,
    pages: list[Page],
    rejected: list[tuple[str, str]],
) -> None:
    jobs.create_for_document(session, document.id, document.translate)
    ingest = jobs.get_locked(session, document.id, JobStage.INGEST)
    jobs.start(ingest, total=file_count)
    failed = min(len(rejected), file_count)
    jobs.record_progress(ingest, done=file_count - failed, failed=failed)
    ocr = jobs.get_locked(session, document.id, JobStage.OCR)
    engines = sorted({p.ocr_engine or "" for p in pages})
    jobs.start(ocr, total=len(pages), detail=f"text imported ({', '.join(engines)}); OCR skipped")
    jobs.record_progress(ocr, done=len(pages), failed=0)
    if rejected:
        document.error = "; ".join(f"{name}: {why}" for name, why in rejected)
