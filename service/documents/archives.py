"""Zip uploads: each scan inside becomes an upload of its own, named after the archive."""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import IO

from service.documents.service import Upload

ZIP_MAGIC = b"PK\x03\x04"
MAX_ENTRIES = 2000
SPOOL_BYTES = 8 * 1024 * 1024


def is_zip(stream: IO[bytes]) -> bool:
    """Tell from the first bytes whether a stream is a zip archive (and rewind it)."""
    head = stream.read(4)
    stream.seek(0)
    return head == ZIP_MAGIC


def expand(uploads: Sequence[Upload], max_bytes: int) -> list[Upload]:
    """Replace every zip upload by its files in natural name order; others pass through."""
    expanded: list[Upload] = []
    for upload in uploads:
        if is_zip(upload.stream):
            expanded.extend(_entries(upload, max_bytes))
        else:
            expanded.append(upload)
    return expanded


def _entries(upload: Upload, max_bytes: int) -> Iterator[Upload]:
    try:
        archive = zipfile.ZipFile(upload.stream)
    except zipfile.BadZipFile:
        yield Upload(upload.filename, _text_stream(b"corrupt zip archive"))
        return
    names = [i for i in archive.infolist() if _is_scan_entry(i)]
    for info in sorted(names, key=lambda i: _natural(i.filename))[:MAX_ENTRIES]:
        label = f"{upload.filename} › {PurePosixPath(info.filename).name}"
        yield Upload(label, _copy(archive, info, max_bytes))


def _is_scan_entry(info: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(info.filename)
    hidden = any(part.startswith((".", "__MACOSX")) for part in path.parts)
    return not info.is_dir() and not hidden


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> IO[bytes]:
    """Copy at most max_bytes + 1 bytes, so an oversized entry is refused, never inflated whole."""
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    with archive.open(info) as entry:
        shutil.copyfileobj(_limited(entry, max_bytes + 1), out)
    out.seek(0)
    return out


class _limited:  # noqa: N801 - a tiny file-like adapter
    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream, self.left = stream, limit

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        want = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(want)
        self.left -= len(data)
        return data


def _text_stream(data: bytes) -> IO[bytes]:
    out: IO[bytes] = tempfile.SpooledTemporaryFile()  # noqa: SIM115
    out.write(data)
    out.seek(0)
    return out


def _natural(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]
