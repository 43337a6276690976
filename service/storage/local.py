"""Content-addressed file storage on local disk (SHA-256 of the bytes is the name)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from service.errors import BlobMissing
from service.storage.base import CHUNK, HEX, Storage, TooLarge, check_digest


class LocalStore(Storage):
    """Blobs under `root/ab/cd/<sha256>`; the client's filename is never used as a path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.resolve().as_uri()

    def path(self, sha256: str) -> Path:
        """Return where the blob with this digest lives."""
        check_digest(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """Tell whether the blob is stored."""
        return self.path(sha256).is_file()

    def put_stream(self, stream: IO[bytes], max_bytes: int | None = None) -> tuple[str, int]:
        """Store a stream chunk by chunk; return its digest and size (TooLarge past max_bytes)."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                digest, size = copy_hashing(stream, out, max_bytes)
            self._move_into_place(tmp, digest)
        finally:
            tmp.unlink(missing_ok=True)
        return digest, size

    def open(self, sha256: str) -> IO[bytes]:
        """Open a stored blob for reading."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError as exc:
            raise missing(sha256, self.url) from exc

    @contextlib.contextmanager
    def local_file(self, sha256: str) -> Iterator[Path]:
        """The blob's own file."""
        path = self.path(sha256)
        if not path.is_file():
            raise missing(sha256, self.url)
        yield path

    def delete(self, sha256: str) -> None:
        """Remove a blob if present."""
        self.path(sha256).unlink(missing_ok=True)

    def digests(self) -> Iterator[tuple[str, int]]:
        """Every blob under root (temporary files skipped), in name order."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/??/*")):
            name = path.name
            if len(name) == 64 and set(name) <= HEX and path.is_file():
                yield name, path.stat().st_size

    def _move_into_place(self, tmp: Path, digest: str) -> None:
        target = self.path(digest)
        if target.exists():
            return
        _private_dirs(self.root, target.parent)
        tmp.chmod(0o600)
        tmp.replace(target)


def copy_hashing(
    stream: IO[bytes], out: IO[bytes], max_bytes: int | None = None
) -> tuple[str, int]:
    """Copy a stream to `out` chunk by chunk; its digest and size (TooLarge past max_bytes)."""
    hasher = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(size)
        out.write(chunk)
    return hasher.hexdigest(), size


def missing(sha256: str, url: str) -> BlobMissing:
    """The error for a blob the database names but the store does not hold."""
    return BlobMissing(
        f"The stored file {sha256[:12]}… is missing from {url}; upload the document again "
        "or restore the store from a backup."
    )


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
