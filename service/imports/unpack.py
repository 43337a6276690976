"""Reading an import's uploads without holding them in memory.

Transcriptions (PAGE/ALTO XML, small) are read, each up to `MAX_XML_BYTES`. Images are
only located — an upload stream or a zip entry — and streamed into storage later, once
a transcription names them (`open_image`), never read whole into memory. Zip entries the
import does not use (bookkeeping, thumbnails, anything else) are never read at all. What
is read counts against the request's total (`PALIMPSEST_MAX_REQUEST_BYTES`), and at most
`PALIMPSEST_MAX_ZIP_ENTRIES` transcriptions and images are taken from one zip.
"""

from __future__ import annotations

import contextlib
import functools
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO

from service.documents.archives import ZIP_MAGIC, ZipLimits
from service.documents.service import Upload
from service.storage import human_bytes

XML_SUFFIXES = (".xml", ".page", ".alto")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff")
BOOKKEEPING = ("mets.xml", "metadata.xml", "doc.xml")  # Transkribus/eScriptorium, not pages
MAX_XML_BYTES = 32 * 1024 * 1024
# What reading a damaged or unsupported zip entry raises.
ENTRY_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError)


@dataclass(frozen=True)
class Transcription:
    """A PAGE or ALTO file as uploaded."""

    name: str
    data: bytes


@dataclass(frozen=True)
class ImageSource:
    """Where an image can be read from, as often as needed, without reading it yet."""

    name: str
    open: Callable[[], contextlib.AbstractContextManager[IO[bytes]]]


@dataclass
class Unpacked:
    """The transcriptions, the images they may name, and what was refused, with why."""

    transcriptions: list[Transcription] = field(default_factory=list)
    images: dict[str, ImageSource] = field(default_factory=dict)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    read: int = 0  # bytes read (transcriptions); images add theirs when stored


def unpack(uploads: Sequence[Upload], limits: ZipLimits) -> Unpacked:
    """Sort the uploads (and the entries of zips among them) into transcriptions and images."""
    found = Unpacked()
    for upload in uploads:
        name = PurePosixPath(upload.filename or "file").name
        head = upload.stream.read(len(ZIP_MAGIC))
        upload.stream.seek(0)
        if head == ZIP_MAGIC:
            _unzip(name, upload.stream, limits, found)
        elif _looks_like_xml(name, upload.stream):
            _take_xml(name, _rewound(upload.stream), limits, found)
        else:
            found.images[name] = ImageSource(name, _rewound(upload.stream))
    return found


def _rewound(stream: IO[bytes]) -> Callable[[], contextlib.AbstractContextManager[IO[bytes]]]:
    def reader() -> contextlib.AbstractContextManager[IO[bytes]]:
        stream.seek(0)
        return contextlib.nullcontext(stream)

    return reader


def _looks_like_xml(name: str, stream: IO[bytes]) -> bool:
    if name.lower().endswith(XML_SUFFIXES):
        return True
    head = stream.read(64)
    stream.seek(0)
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<"


def _unzip(name: str, stream: IO[bytes], limits: ZipLimits, found: Unpacked) -> None:
    """Take a Transkribus/eScriptorium export zip's transcriptions, and locate its images."""
    refusal = limits.check_listing(stream, name)
    if refusal is not None:
        found.rejected.append((name, refusal))
        return
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        found.rejected.append((name, "not a readable zip file"))
        return
    taken = 0
    for info in sorted(_used_entries(archive), key=lambda i: i.filename):
        base = PurePosixPath(info.filename).name
        if taken >= limits.max_entries:
            found.rejected.append((base, f"{name} has more than {limits.max_entries} files."))
            continue
        taken += 1
        opener = functools.partial(archive.open, info)
        if base.lower().endswith(XML_SUFFIXES):
            _take_xml(base, opener, limits, found)
        else:
            found.images[base] = ImageSource(base, opener)


def _used_entries(archive: zipfile.ZipFile) -> Iterator[zipfile.ZipInfo]:
    """Transcriptions and images: the only entries an import reads."""
    for info in archive.infolist():
        base = PurePosixPath(info.filename).name.lower()
        if info.is_dir() or base.startswith(".") or "__macosx" in info.filename.lower():
            continue
        if base.endswith(BOOKKEEPING):
            continue
        if base.endswith(XML_SUFFIXES + IMAGE_SUFFIXES):
            yield info


def _take_xml(
    name: str,
    opener: Callable[[], contextlib.AbstractContextManager[IO[bytes]]],
    limits: ZipLimits,
    found: Unpacked,
) -> None:
    """Read one transcription, refusing it past its own limit or the request's total."""
    allowed = min(MAX_XML_BYTES, limits.max_total_bytes - found.read)
    try:
        with opener() as stream:
            data = stream.read(allowed + 1)
    except ENTRY_ERRORS as exc:
        found.rejected.append((name, f"cannot be read from the archive: {exc}"))
        return
    found.read += min(len(data), allowed)
    if len(data) > allowed:
        found.rejected.append((name, f"{name} {too_large(allowed, MAX_XML_BYTES, limits)}"))
        return
    found.transcriptions.append(Transcription(name, data))


def too_large(allowed: int, own_limit: int, limits: ZipLimits) -> str:
    """Why a file was cut off, after its name: its own size limit, or the request's total."""
    if allowed < own_limit:
        return f"would take the upload past its {human_bytes(limits.max_total_bytes)} limit."
    return f"is larger than the {human_bytes(own_limit)} limit."
