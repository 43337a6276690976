"""Membership of the collections a user creates, so their documents stay visible to them."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.accounts import access
from service.accounts.models import Membership


def join_collection(session: Session, collection_id: int) -> None:
    """Make the current (non-admin) user a member of a collection they just created."""
    principal = access.current()
    if principal is None or principal.is_admin:
        return
    statement = insert(Membership).values(user_id=principal.user_id, collection_id=collection_id)
    session.execute(statement.on_conflict_do_nothing())
    access.grant(collection_id)
