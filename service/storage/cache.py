"""A size-bounded cache of blobs on this host's disk, for a store on other machines.

Blobs are content-addressed, so a cached file is never stale. A file is fetched into a
`.part-<pid>-…` file, checked against its digest, then renamed into place: a process
killed mid-read leaves only a part file, which the next eviction removes.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from service.storage.base import CHUNK, check_digest

log = logging.getLogger(__name__)

PART_PREFIX = ".part-"


class CorruptBlob(Exception):
    """The bytes fetched do not hash to the name they were fetched by."""


class BlobCache:
    """Files under `root/ab/<sha256>`, least recently used evicted past `max_bytes`."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path(self, sha256: str) -> Path:
        """Where the cached copy of a blob lives."""
        check_digest(sha256)
        return self.root / sha256[:2] / sha256

    def fetch(self, sha256: str, download: Callable[[IO[bytes]], None]) -> Path:
        """The cached file, downloaded (and verified) first when it is not here."""
        target = self.path(sha256)
        if target.is_file():
            with contextlib.suppress(FileNotFoundError):  # evicted meanwhile: fetch again
                os.utime(target)
                return target
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f"{PART_PREFIX}{os.getpid()}-")
        part = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                download(out)
            if file_digest(part) != sha256:
                raise CorruptBlob(f"the bytes fetched for {sha256[:12]}… have another digest")
            part.replace(target)
        finally:
            part.unlink(missing_ok=True)
        self.evict(keep=target)
        return target

    def evict(self, keep: Path | None = None) -> None:
        """Remove least recently used files past the bound, and parts of dead processes."""
        files: list[tuple[float, int, Path]] = []
        for path in self._files():
            if path.name.startswith(PART_PREFIX):
                _remove_orphan_part(path)
                continue
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size

    def size(self) -> int:
        """Bytes held by cached files now."""
        return sum(p.stat().st_size for p in self._files() if not p.name.startswith(PART_PREFIX))

    def _files(self) -> Iterator[Path]:
        if self.root.is_dir():
            yield from (p for p in self.root.glob("??/*") if p.is_file())


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read chunk by chunk."""
    hasher = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _remove_orphan_part(path: Path) -> None:
    """A part file whose process is gone (killed mid-read) is removed."""
    pid = path.name[len(PART_PREFIX) :].split("-", 1)[0]
    if pid.isdigit() and not _alive(int(pid)):
        log.info("removing %s, left by a reader that stopped mid-read", path.name)
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
