"""Who is asking, for the duration of a request: read by services to filter what is visible.

The authentication middleware binds the request's principal; workers and the CLI bind
nothing and see everything (they act for the whole installation).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace

from service.accounts.service import Principal

_current: ContextVar[Principal | None] = ContextVar("palimpsest_principal", default=None)


@contextmanager
def acting_as(principal: Principal | None) -> Iterator[None]:
    """Bind the principal of the current request."""
    token = _current.set(principal)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> Principal | None:
    """The principal of the current request, or None outside requests."""
    return _current.get()


def may_see(collection_id: int | None) -> bool:
    """Whether the current principal may see a document of this collection."""
    principal = _current.get()
    return principal is None or principal.may_see(collection_id)


def user_id() -> int | None:
    """The id of the user the request acts for (None for workers and the CLI)."""
    principal = _current.get()
    return principal.user_id if principal is not None else None


def is_admin() -> bool:
    """Whether the request acts for an administrator (or for the installation itself)."""
    principal = _current.get()
    return principal is None or principal.is_admin


def may_move(created_by: int | None) -> bool:
    """Whether the principal may move a document between collections: its uploader or an
    administrator (workers and the CLI act for the installation)."""
    principal = _current.get()
    return principal is None or principal.is_admin or principal.user_id == created_by


def visible_collections() -> frozenset[int] | None:
    """Collection ids the principal may see, or None for all (admins, workers)."""
    principal = _current.get()
    if principal is None or principal.is_admin:
        return None
    return principal.collection_ids


def grant(collection_id: int) -> None:
    """Let the current request see a collection it was just given (no new login needed)."""
    principal = _current.get()
    if principal is not None and collection_id not in principal.collection_ids:
        _current.set(replace(principal, collection_ids=principal.collection_ids | {collection_id}))
