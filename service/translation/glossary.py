"""Glossaries per collection: agreed renderings, given to the model and checked afterwards.

A term matches at a word start, case-insensitively, with up to three letters of inflection
after it ("Amtmann" matches "Amtmanns", "Rat" does not match "Rathaus"); the rendering
is looked for in the translation the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts import access
from service.accounts.membership import join_collection
from service.documents.models import Collection, Document
from service.documents.service import get_collection_or_raise, visible_named
from service.errors import Forbidden, InvalidInput, NotFound
from service.translation.backends.base import GlossaryHint
from service.translation.models import GlossaryEntry


@lru_cache(maxsize=4096)
def _pattern(term: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(w) for w in term.split())
    return re.compile(rf"(?<!\w){words}\w{{0,3}}(?!\w)", re.IGNORECASE)


def occurs(term: str, text: str) -> bool:
    """True when the term (or a lightly inflected form) occurs in the text."""
    return bool(term.strip()) and _pattern(term.strip()).search(text) is not None


def occurring(hints: Iterable[GlossaryHint], text: str) -> tuple[GlossaryHint, ...]:
    """The glossary entries whose term occurs in the text."""
    return tuple(h for h in hints if occurs(h.term, text))


def missing_renderings(
    hints: Sequence[GlossaryHint], source: str, translation: str
) -> list[dict[str, Any]]:
    """A flag for each term in the source whose agreed rendering the translation lacks."""
    return [
        {
            "kind": "glossary",
            "term": h.term,
            "expected": h.translation,
            "message": f"the source has {h.term!r} but the translation lacks {h.translation!r}",
        }
        for h in hints
        if occurs(h.term, source) and not occurs(h.translation, translation)
    ]


def hints_for_document(session: Session, document: Document) -> list[GlossaryHint]:
    """Every glossary entry of the document's collection, longest terms first."""
    if document.collection_id is None:
        return []
    entries = list_entries(session, document.collection_id)
    hints = [GlossaryHint(e.term, e.translation, e.note) for e in entries]
    return sorted(hints, key=lambda h: -len(h.term))


def list_entries(session: Session, collection_id: int) -> list[GlossaryEntry]:
    """A collection's glossary, by term."""
    return list(
        session.scalars(
            select(GlossaryEntry)
            .where(GlossaryEntry.collection_id == collection_id)
            .order_by(GlossaryEntry.term)
        )
    )


def create_collection(session: Session, name: str, description: str | None) -> Collection:
    """A new collection; names are unique."""
    name = name.strip()[:200]
    if not name:
        raise InvalidInput("A collection needs a name.")
    if visible_named(session, name):  # one the user cannot see is not named to them
        raise InvalidInput(f"A collection named {name!r} exists already.")
    collection = Collection(name=name, description=description)
    session.add(collection)
    session.flush()
    join_collection(session, collection.id)
    return collection


def entry_by_term(session: Session, collection_id: int, term: str) -> GlossaryEntry | None:
    """The collection's entry for a term, if it has one."""
    return session.scalar(
        select(GlossaryEntry).where(
            GlossaryEntry.collection_id == collection_id, GlossaryEntry.term == term.strip()
        )
    )


def put_entry(
    session: Session, collection_id: int, term: str, translation: str, note: str | None
) -> GlossaryEntry:
    """Add a term to a collection's glossary, or change its rendering."""
    get_collection_or_raise(session, collection_id)
    term, translation = term.strip(), translation.strip()
    if not term or not translation:
        raise InvalidInput("A glossary entry needs a term and its translation.")
    entry = session.scalar(
        select(GlossaryEntry).where(
            GlossaryEntry.collection_id == collection_id, GlossaryEntry.term == term
        )
    )
    if entry is None:
        entry = GlossaryEntry(collection_id=collection_id, term=term[:200])
        session.add(entry)
    entry.translation, entry.note = translation[:200], note
    session.flush()
    return entry


def delete_entry(session: Session, collection_id: int, entry_id: int) -> None:
    """Remove a term from a collection's glossary."""
    get_collection_or_raise(session, collection_id)
    entry = session.get(GlossaryEntry, entry_id)
    if entry is None or entry.collection_id != collection_id:
        raise NotFound(f"Glossary entry {entry_id} does not exist in collection {collection_id}.")
    session.delete(entry)
    session.flush()


def assign_collection(session: Session, document: Document, collection_id: int | None) -> None:
    """Put a document in a collection (or none); its glossary applies from the next run.
    Only its uploader or an administrator may: moving hides it from everyone else."""
    if not access.may_move(document.created_by):
        raise Forbidden("Only the uploader of a document or an administrator may move it.")
    if collection_id is not None:
        get_collection_or_raise(session, collection_id)
    document.collection_id = collection_id
    session.flush()
