"""Run Alembic migrations from code (CLI, `make run`, tests)."""

from __future__ import annotations

from enum import StrEnum

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from service.config import PROJECT_ROOT, get_settings


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic config pointing at our migrations and database."""
    config = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["url"] = url or get_settings().sqlalchemy_url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate the database to `revision`."""
    command.upgrade(alembic_config(url), revision)


def check(url: str | None = None) -> None:
    """Raise if the models and the migrated schema differ."""
    command.check(alembic_config(url))


class SchemaState(StrEnum):
    """Where a database stands against this version's migrations."""

    ABSENT = "absent"
    BEHIND = "behind"
    CURRENT = "current"


def schema_state(url: str | None = None) -> SchemaState:
    """Whether the database was never migrated, is behind the latest revision, or current.
    Raises sqlalchemy's OperationalError when the server cannot be reached."""
    config = alembic_config(url)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    engine = create_engine(config.attributes["url"])
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    if not current:
        return SchemaState.ABSENT
    return SchemaState.CURRENT if current == heads else SchemaState.BEHIND
