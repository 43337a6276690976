"""FastAPI dependencies: one session per request, settings, storage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.config import Settings, get_settings
from service.db import get_sessionmaker
from service.storage import Storage


def get_session() -> Iterator[Session]:
    """A session for the request; routes commit explicitly, anything else is rolled back."""
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def get_storage(settings: Annotated[Settings, Depends(get_settings)]) -> Storage:
    """File storage from settings."""
    return Storage(settings.storage_path)


def current_reviewer(request: Request) -> str:
    """Who is editing: the name the reviewer gave (a cookie) until accounts exist."""
    name = unquote(request.cookies.get("reviewer", "")).strip()
    return name[:200] or "anonymous"


SessionDep = Annotated[Session, Depends(get_session)]
ReviewerDep = Annotated[str, Depends(current_reviewer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
