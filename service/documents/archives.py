"""Zip uploads: each scan inside becomes an upload of its own, named after the archive.

Entries are never written under their own names (no path traversal) and never inflated
beyond the limits (no zip bomb): each entry is copied up to the per-file limit plus one
byte, the archive as a whole up to the per-request limit, and past the entry limit the
remaining entries are refused with a reason. An archive whose directory lists far more
entries than that is refused before Python's zipfile builds an object for each of them.
"""

from __future__ import annotations

import re
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from service.documents.service import Upload
from service.storage import human_bytes

ZIP_MAGIC = b"PK\x03\x04"
SPOOL_BYTES = 8 * 1024 * 1024
# Folders, thumbnails and metadata beside the files used: a directory may list this many
# times the entry limit before the archive is refused unread.
LISTED_PER_ENTRY = 10


@dataclass(frozen=True)
class ZipLimits:
    """How much a zip upload may hold."""

    max_file_bytes: int
    max_total_bytes: int
    max_entries: int

    def check_listing(self, stream: IO[bytes], name: str) -> str | None:
        """Why the archive is refused unread (too many entries listed), or None."""
        listed = declared_entries(stream)
        if listed > self.max_entries * LISTED_PER_ENTRY:
            return (
                f"{name} lists {listed} entries; an archive may list at most "
                f"{self.max_entries * LISTED_PER_ENTRY} (PALIMPSEST_MAX_ZIP_ENTRIES files used)."
            )
        return None


def declared_entries(stream: IO[bytes]) -> int:
    """How many entries a zip's directory declares, from its end record (0 if none found);
    the stream is left at its start."""
    size = stream.seek(0, 2)
    stream.seek(max(0, size - 22 - 65535))  # the end record, after a comment of up to 64 KB
    tail = stream.read()
    stream.seek(0)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) < end + 22:
        return 0
    (count,) = struct.unpack("<H", tail[end + 10 : end + 12])
    if count == 0xFFFF and tail[end - 20 : end - 16] == b"PK\x06\x07":  # zip64
        (offset,) = struct.unpack("<Q", tail[end - 12 : end - 4])
        stream.seek(offset)
        record = stream.read(56)
        stream.seek(0)
        if record[:4] == b"PK\x06\x06":
            (count,) = struct.unpack("<Q", record[32:40])
    return int(count)


def is_zip(stream: IO[bytes]) -> bool:
    """Tell from the first bytes whether a stream is a zip archive (and rewind it)."""
    head = stream.read(4)
    stream.seek(0)
    return head == ZIP_MAGIC


def expand(uploads: Sequence[Upload], limits: ZipLimits) -> list[Upload]:
    """Replace every zip upload by its files in natural name order; others pass through."""
    expanded: list[Upload] = []
    for upload in uploads:
        if upload.error is None and is_zip(upload.stream):
            expanded.extend(_entries(upload, limits))
        else:
            expanded.append(upload)
    return expanded


def _entries(upload: Upload, limits: ZipLimits) -> Iterator[Upload]:
    refusal = limits.check_listing(upload.stream, upload.filename)
    if refusal is not None:
        yield _refused(upload.filename, refusal)
        return
    try:
        archive = zipfile.ZipFile(upload.stream)
    except zipfile.BadZipFile:
        yield _refused(upload.filename, "The zip archive is corrupt.")
        return
    entries = sorted(
        (i for i in archive.infolist() if _is_scan_entry(i)), key=lambda i: _natural(i.filename)
    )
    total = 0
    for index, info in enumerate(entries):
        label = f"{upload.filename} › {PurePosixPath(info.filename).name}"
        if index >= limits.max_entries:
            yield _refused(label, f"The archive has more than {limits.max_entries} files.")
            continue
        if total >= limits.max_total_bytes:
            limit = human_bytes(limits.max_total_bytes)
            yield _refused(label, f"The archive expands beyond the {limit} upload limit.")
            continue
        allowed = min(limits.max_file_bytes, limits.max_total_bytes - total)
        copied = _copy(archive, info, allowed)
        size = _size(copied)
        total += size
        if size > allowed:  # refused for its size whatever its first bytes look like
            copied.close()
            yield _refused(label, _too_large(limits, allowed))
            continue
        yield Upload(label, copied)


def _too_large(limits: ZipLimits, allowed: int) -> str:
    if allowed < limits.max_file_bytes:
        return f"The archive expands beyond the {human_bytes(limits.max_total_bytes)} upload limit."
    return f"The file is larger than the {human_bytes(limits.max_file_bytes)} limit."


def _refused(label: str, reason: str) -> Upload:
    return Upload(label, _empty(), error=reason)


def _is_scan_entry(info: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(info.filename)
    hidden = path.name.startswith(".") or "__MACOSX" in path.parts
    return not info.is_dir() and not hidden


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> IO[bytes]:
    """Copy at most max_bytes + 1 bytes, so an oversized entry is refused, never inflated whole."""
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        with archive.open(info) as entry:
            shutil.copyfileobj(_Limited(entry, max_bytes + 1), out)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        out.seek(0)
        out.truncate()
    out.seek(0)
    return out


def _size(stream: IO[bytes]) -> int:
    size = stream.seek(0, 2)
    stream.seek(0)
    return size


class _Limited:
    """A read-only view of a stream that ends after `limit` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream, self.left = stream, limit

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        want = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(want)
        self.left -= len(data)
        return data


def _empty() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile()


def _natural(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]
