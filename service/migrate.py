"""Run Alembic migrations from code (CLI, `make run`, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

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
