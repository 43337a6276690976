"""Copy every blob of one store into another, verified by hash; safe to run again.

A blob already in the target with the same size is skipped, so an interrupted copy goes
on where it stopped. Each copied blob is read back from the target and hashed: the copy
counts only when the bytes there hash to its name.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from service.errors import PalimpsestError
from service.storage.base import CHUNK, Storage

log = logging.getLogger(__name__)


@dataclass
class Copied:
    """What a migration did."""

    copied: int = 0
    present: int = 0
    bytes_copied: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def migrate(
    source: Storage, target: Storage, report: Callable[[str], None] = lambda _: None
) -> Copied:
    """Copy what `target` lacks from `source`; verify each copy by its digest."""
    there = dict(target.digests())
    done = Copied()
    for digest, size in source.digests():
        if there.get(digest) == size:
            done.present += 1
            continue
        try:
            _copy_one(source, target, digest, there)
        except (PalimpsestError, OSError, _Mismatch) as exc:
            message = getattr(exc, "message", str(exc))
            done.failed.append((digest, message))
            report(f"failed {digest[:12]}…: {message}")
            continue
        done.copied += 1
        done.bytes_copied += size
        if done.copied % 100 == 0:
            report(f"{done.copied} copied, {done.present} already there")
    return done


class _Mismatch(Exception):
    """The target holds other bytes than the name says."""


def _copy_one(source: Storage, target: Storage, digest: str, there: dict[str, int]) -> None:
    with source.open(digest) as stream:
        stored, _ = target.put_stream(stream)
    if stored != digest:
        if stored not in there and stored not in dict(source.digests()):
            target.delete(stored)  # the damaged bytes are nobody's blob
        raise _Mismatch(f"the source's bytes hash to {stored[:12]}…, not to their name")
    hasher = hashlib.sha256()
    with target.open(digest) as back:
        while chunk := back.read(CHUNK):
            hasher.update(chunk)
    if hasher.hexdigest() != digest:
        target.delete(digest)
        raise _Mismatch("the target returned other bytes than were written; removed there")


def switch_config(env_file: Path, values: dict[str, str]) -> None:
    """Set `KEY=value` lines in an env file (created if absent), keeping every other line."""
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    for key, value in values.items():
        pattern = re.compile(rf"^\s*(export\s+)?{re.escape(key)}\s*=")
        kept = [line for line in lines if not pattern.match(line)]
        lines = [*kept, f"{key}={value}"]
    env_file.write_text("\n".join(lines) + "\n")
