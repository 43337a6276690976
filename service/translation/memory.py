"""Translation memory: an identical request to the same model is answered from the database.

The key covers everything that shapes the answer: task, backend, model and its digest (the
GGUF hash for embedded models), prompt version, languages, the normalised source text, the
context segments before it, the glossary entries given and the document's period and genre.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.text import storable
from service.translation.backends.base import GlossaryHint
from service.translation.models import MemoryEntry, RunKind


@dataclass(frozen=True)
class ModelKey:
    """The model side of a memory key."""

    kind: RunKind
    backend: str
    model: str
    digest: str | None
    prompt_version: str
    source_lang: str
    target_lang: str
    period: str | None = None
    genre: str | None = None
    unit: str = "segment"


def key(
    model: ModelKey, text: str, context: Sequence[str], glossary: Sequence[GlossaryHint]
) -> str:
    """The memory key of one text in its context."""
    payload = [
        model.kind.value,
        model.backend,
        model.digest or model.model,
        model.prompt_version,
        model.source_lang,
        model.target_lang,
        model.period or "",
        model.genre or "",
        model.unit,
        _normal(text),
        [_normal(c) for c in context],
        sorted((g.term, g.translation, g.note or "") for g in glossary),
    ]
    blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _normal(text: str) -> str:
    return " ".join(text.split())


def lookup(session: Session, keys: Sequence[str]) -> dict[str, MemoryEntry]:
    """Stored entries for these keys."""
    if not keys:
        return {}
    rows = session.scalars(select(MemoryEntry).where(MemoryEntry.key.in_(set(keys))))
    return {row.key: row for row in rows}


def count_hits(session: Session, entry_ids: Sequence[int]) -> None:
    """Count reuses, so the memory shows what it saved."""
    if entry_ids:
        session.execute(
            update(MemoryEntry)
            .where(MemoryEntry.id.in_(set(entry_ids)))
            .values(hits=MemoryEntry.hits + 1)
        )


@dataclass(frozen=True)
class NewEntry:
    """A fresh answer worth remembering."""

    key: str
    source_text: str
    text: str
    document_id: int


def remember(session: Session, model: ModelKey, entries: Sequence[NewEntry]) -> None:
    """Store fresh answers; a key already stored (a concurrent batch) is left as it is."""
    if not entries:
        return
    rows = [
        {
            "key": e.key,
            "kind": model.kind.value,
            "backend": model.backend,
            "model": model.model,
            "model_digest": model.digest,
            "prompt_version": model.prompt_version,
            "source_lang": model.source_lang,
            "target_lang": model.target_lang,
            "source_text": storable(e.source_text),
            "text": storable(e.text),
            "document_id": e.document_id,
        }
        for e in {e.key: e for e in entries}.values()
    ]
    session.connection().execute(_INSERT, rows)


_INSERT = insert(cast(Table, MemoryEntry.__table__)).on_conflict_do_nothing(index_elements=["key"])
