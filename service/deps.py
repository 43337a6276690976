"""FastAPI dependencies: one session per request, settings, storage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.accounts.service import Principal
from service.config import Settings, get_settings
from service.db import get_sessionmaker
from service.errors import NotAuthenticated
from service.review.models import Author
from service.storage import Storage, open_storage


def get_session() -> Iterator[Session]:
    """A session for the request; routes commit explicitly, anything else is rolled back."""
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def get_storage(settings: Annotated[Settings, Depends(get_settings)]) -> Storage:
    """File storage from settings (the local folder or the object store)."""
    return open_storage(settings)


def current_principal(request: Request) -> Principal:
    """The logged-in user (the authentication middleware guarantees there is one)."""
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        raise NotAuthenticated("Log in first.")
    return principal


def current_reviewer(principal: Annotated[Principal, Depends(current_principal)]) -> Author:
    """Who is editing, as recorded in the history."""
    return Author(principal.user_id, principal.display_name or principal.username)


SessionDep = Annotated[Session, Depends(get_session)]
ReviewerDep = Annotated[Author, Depends(current_reviewer)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
