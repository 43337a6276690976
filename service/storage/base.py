"""The one interface every blob store offers: content-addressed, written once, read by streaming."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO

CHUNK = 1024 * 1024
HEX = frozenset("0123456789abcdef")


class TooLarge(Exception):
    """A stream exceeded the size limit; nothing was stored."""


def check_digest(sha256: str) -> str:
    """The digest itself, or ValueError: keys and paths come only from digests."""
    if len(sha256) != 64 or not set(sha256) <= HEX:
        raise ValueError(f"not a sha256 digest: {sha256!r}")
    return sha256


def human_bytes(size: int) -> str:
    """A size for messages: 64 KB, 5 MB, 2 GB."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:g} {unit}" if size % factor else f"{size // factor} {unit}"
    return f"{size} bytes"


def hash_stream(stream: IO[bytes]) -> tuple[str, int]:
    """SHA-256 and size of a stream, read chunk by chunk."""
    hasher = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        size += len(chunk)
    return hasher.hexdigest(), size


class Storage(ABC):
    """Blobs named by the SHA-256 of their bytes: a name never changes what it holds."""

    url: str

    @abstractmethod
    def exists(self, sha256: str) -> bool:
        """Tell whether the blob is stored."""

    @abstractmethod
    def put_stream(self, stream: IO[bytes], max_bytes: int | None = None) -> tuple[str, int]:
        """Store a stream chunk by chunk; return its digest and size (TooLarge past max_bytes)."""

    def put_bytes(self, data: bytes) -> str:
        """Store bytes and return their digest."""
        import io

        return self.put_stream(io.BytesIO(data))[0]

    @abstractmethod
    def open(self, sha256: str) -> IO[bytes]:
        """A stream of the blob's bytes (BlobMissing when it is not stored)."""

    @abstractmethod
    def local_file(self, sha256: str) -> AbstractContextManager[Path]:
        """A file on this host holding the blob, for readers that need a path (decoders)."""

    @abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove a blob if present."""

    @abstractmethod
    def digests(self) -> Iterator[tuple[str, int]]:
        """Every stored blob's digest and size."""

    def read_bytes(self, sha256: str) -> bytes:
        """A small blob whole (layout files, manifests): never a scan."""
        with self.open(sha256) as stream:
            return stream.read()

    def check(self) -> None:
        """Raise a clear error unless a probe blob can be written, read back and removed."""
        probe = b"palimpsest storage check\n"
        there = self.exists(hashlib.sha256(probe).hexdigest())
        digest = self.put_bytes(probe)
        if self.read_bytes(digest) != probe:
            raise RuntimeError(f"{self.url} returned other bytes than were written")
        if not there:
            self.delete(digest)
