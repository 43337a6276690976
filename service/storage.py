"""Content-addressed file storage on local disk (SHA-256 of the bytes is the name)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO

CHUNK = 1024 * 1024


def human_bytes(size: int) -> str:
    """A size for messages: 64 KB, 5 MB, 2 GB."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:g} {unit}" if size % factor else f"{size // factor} {unit}"
    return f"{size} bytes"


class TooLarge(Exception):
    """A stream exceeded the size limit; nothing was stored."""


class Storage:
    """Blobs under `root/ab/cd/<sha256>`; the client's filename is never used as a path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Return where the blob with this digest lives."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """Tell whether the blob is stored."""
        return self.path(sha256).is_file()

    def put_bytes(self, data: bytes) -> str:
        """Store bytes and return their digest."""
        digest = hashlib.sha256(data).hexdigest()
        if not self.exists(digest):
            self._write_atomically(digest, [data])
        return digest

    def put_stream(self, stream: IO[bytes], max_bytes: int | None = None) -> tuple[str, int]:
        """Store a stream chunk by chunk; return its digest and size (TooLarge past max_bytes)."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        hasher = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    hasher.update(chunk)
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(size)
                    out.write(chunk)
            digest = hasher.hexdigest()
            self._move_into_place(tmp, digest)
        finally:
            tmp.unlink(missing_ok=True)
        return digest, size

    def open(self, sha256: str) -> IO[bytes]:
        """Open a stored blob for reading."""
        return self.path(sha256).open("rb")

    def delete(self, sha256: str) -> None:
        """Remove a blob if present."""
        self.path(sha256).unlink(missing_ok=True)

    def _write_atomically(self, digest: str, chunks: list[bytes]) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".blob-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            self._move_into_place(tmp, digest)
        finally:
            tmp.unlink(missing_ok=True)

    def _move_into_place(self, tmp: Path, digest: str) -> None:
        target = self.path(digest)
        if target.exists():
            return
        _private_dirs(self.root, target.parent)
        tmp.chmod(0o600)
        tmp.replace(target)


def write_atomically(target: Path, data: bytes) -> None:
    """Write a file whole or not at all: a process reading it never sees half of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _private_dirs(root: Path, folder: Path) -> None:
    """Create folder and any missing parents below root, readable by the service user only."""
    for level in [*reversed(folder.relative_to(root).parents), folder.relative_to(root)]:
        (root / level).mkdir(exist_ok=True, mode=0o700)


def get_storage() -> Storage:
    """Return the storage configured in settings."""
    from service.config import get_settings

    return Storage(get_settings().storage_path)
