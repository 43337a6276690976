"""Deleting a collection (administrators only), with what becomes of its documents.

A collection keeps its documents from everyone but its members, so deleting it must not
quietly change who sees them: a collection that holds documents is deleted only when the
request says what becomes of them — deleted with it, moved to another collection, or
ungrouped (then every user sees them). Its glossary and memberships go with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.accounts import access
from service.documents import service as documents
from service.documents.models import Document
from service.errors import Forbidden, InvalidInput


class DocumentsFate(StrEnum):
    """What becomes of a deleted collection's documents."""

    REFUSE = "refuse"  # delete only an empty collection
    DELETE = "delete"
    MOVE = "move"
    UNGROUP = "ungroup"


@dataclass(frozen=True)
class CollectionDeleted:
    """What a deletion did; `orphans` are blobs to remove from storage after the commit."""

    name: str
    fate: DocumentsFate
    count: int
    orphans: list[str] = field(default_factory=list)


def delete(
    session: Session, collection_id: int, fate: DocumentsFate, move_to: int | None = None
) -> CollectionDeleted:
    """Delete a collection, deleting, moving or ungrouping its documents as asked."""
    collection = documents.get_collection_or_raise(session, collection_id)
    if not access.is_admin():
        raise Forbidden("Only administrators delete collections.")
    ids = list(session.scalars(select(Document.id).where(Document.collection_id == collection.id)))
    if ids and fate is DocumentsFate.REFUSE:
        raise InvalidInput(
            f"The collection {collection.name!r} holds {_documents(len(ids))}: say what becomes "
            "of them with documents=delete, documents=move&move_to=ID or documents=ungroup "
            "(then every user sees them)."
        )
    orphans = _settle(session, collection.id, ids, fate, move_to)
    session.delete(collection)
    session.flush()
    return CollectionDeleted(collection.name, fate, len(ids), orphans)


def _settle(
    session: Session, collection_id: int, ids: list[int], fate: DocumentsFate, move_to: int | None
) -> list[str]:
    """Delete, move or ungroup the documents; the blobs no document uses any more."""
    if fate is DocumentsFate.DELETE:
        return sorted({blob for i in ids for blob in documents.delete(session, i)})
    target = None
    if fate is DocumentsFate.MOVE:
        if move_to is None or move_to == collection_id:
            raise InvalidInput("documents=move needs move_to: the id of another collection.")
        target = documents.get_collection_or_raise(session, move_to).id
    session.execute(
        update(Document).where(Document.id.in_(ids)).values(collection_id=target),
        execution_options={"synchronize_session": False},
    )
    return []


def _documents(count: int) -> str:
    return f"{count} document" + ("" if count == 1 else "s")
