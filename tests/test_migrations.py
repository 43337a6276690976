"""The schema comes from the migrations, and the models do not drift from them."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

from service.migrate import alembic_config, check
from tests.conftest import BASE_URL, TEST_DB


def test_models_match_the_migrated_schema(database: str) -> None:
    check(database)  # raises if autogenerate would emit anything


def test_migrations_run_down_and_up_on_an_empty_database() -> None:
    from alembic import command

    scratch = f"{TEST_DB}_migrations"
    admin = make_url(BASE_URL).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    url = make_url(BASE_URL).set(database=scratch).render_as_string(hide_password=False)
    try:
        config = alembic_config(url)
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        check(url)
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
