"""The schema comes from the migrations, and the models do not drift from them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from service.migrate import alembic_config, check
from tests.conftest import BASE_URL, TEST_DB


def test_models_match_the_migrated_schema(database: str) -> None:
    check(database)  # raises if autogenerate would emit anything


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """An empty database of its own, dropped afterwards."""
    scratch = f"{TEST_DB}_migrations"
    admin = make_url(BASE_URL).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        yield make_url(BASE_URL).set(database=scratch).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def test_migrations_run_down_and_up_on_an_empty_database(scratch_url: str) -> None:
    from alembic import command

    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    check(scratch_url)


def test_earlier_edits_are_linked_to_the_one_account_their_author_names(
    scratch_url: str,
) -> None:
    from alembic import command

    config = alembic_config(scratch_url)
    command.upgrade(config, "e5dc14362f79")  # before edits kept the author's account
    dsn = scratch_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        ids = _users(conn, [("ada", "Ada"), ("twin1", "Twin"), ("twin2", "Twin"), ("bob", "")])
        segment = _segment(conn)
        for author in ("Ada", "Twin", "bob", "Someone deleted"):
            conn.execute(
                "INSERT INTO edits (document_id, segment_id, field, before, after, author)"
                " SELECT document_id, id, 'source', 'a', 'b', %s FROM segments WHERE id = %s",
                (author, segment),
            )
    command.upgrade(config, "head")
    with psycopg.connect(dsn) as conn:
        linked: dict[str, int | None] = dict(
            conn.execute("SELECT author, author_id FROM edits").fetchall()
        )
    assert linked == {"Ada": ids["ada"], "Twin": None, "bob": ids["bob"], "Someone deleted": None}


def test_machine_translations_flagged_before_needs_check_existed_now_need_checking(
    scratch_url: str,
) -> None:
    from alembic import command

    config = alembic_config(scratch_url)
    command.upgrade(config, "c3f1a9d2e8b4")  # before the status and the edits' states
    dsn = scratch_url.replace("postgresql+psycopg://", "postgresql://")
    glossary = '[{"kind": "glossary", "term": "livres", "expected": "pounds", "message": "m"}]'
    rows = {
        "glossary-missed": ("machine", glossary),
        "odd-length": ("machine", '[{"kind": "length_ratio", "message": "m"}]'),
        "answered-once": ("machine", '[{"kind": "same_request", "message": "m"}]'),
        "approved-anyway": ("approved", glossary),
        "clean": ("machine", "[]"),
    }
    with psycopg.connect(dsn, autocommit=True) as conn:
        segment = _segment(conn)
        for model, (status, flags) in rows.items():
            conn.execute(
                "INSERT INTO translations (segment_id, document_id, backend, model, text, status,"
                " source_hash, flags) SELECT id, document_id, 'ollama', %s, 'x', %s, 'h', %s"
                " FROM segments WHERE id = %s",
                (model, status, flags, segment),
            )
    command.upgrade(config, "head")
    with psycopg.connect(dsn) as conn:
        statuses: dict[str, str] = dict(
            conn.execute("SELECT model, status FROM translations").fetchall()
        )
    assert statuses == {
        "glossary-missed": "needs_check",
        "odd-length": "needs_check",
        "answered-once": "machine",
        "approved-anyway": "approved",
        "clean": "machine",
    }


def test_rows_stored_without_word_offsets_get_them_so_unclear_words_stay_marked(
    scratch_url: str,
) -> None:
    from alembic import command

    config = alembic_config(scratch_url)
    command.upgrade(config, "8e35da737583")  # word_spans could still be NULL
    dsn = scratch_url.replace("postgresql+psycopg://", "postgresql://")
    words = (
        '[{"text": "Le roy", "words": [{"text": "Le", "conf": 95}, {"text": "roy", "conf": 20}]}]'
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        read = _segment(conn)
        conn.execute(
            "UPDATE segments SET text = 'Le roy', lines = %s, word_spans = NULL WHERE id = %s",
            (words, read),
        )
        corrected = _segment(conn)  # its text no longer matches its (empty) boxes
        conn.execute("UPDATE segments SET word_spans = NULL WHERE id = %s", (corrected,))
    command.upgrade(config, "head")
    with psycopg.connect(dsn) as conn:
        spans: dict[int, Any] = dict(conn.execute("SELECT id, word_spans FROM segments").fetchall())
    assert spans == {read: [[0, 2, 95.0], [3, 6, 20.0]], corrected: []}


def _users(conn: psycopg.Connection[Any], names: list[tuple[str, str]]) -> dict[str, int]:
    ids = {}
    for username, display in names:
        row = conn.execute(
            "INSERT INTO users (username, display_name, password_hash, role)"
            " VALUES (%s, %s, 'x', 'editor') RETURNING id",
            (username, display),
        ).fetchone()
        assert row is not None
        ids[username] = int(row[0])
    return ids


def _segment(conn: psycopg.Connection[Any]) -> int:
    def one(sql: str, *args: object) -> int:
        row = conn.execute(sql, args).fetchone()
        assert row is not None
        return int(row[0])

    document = one(
        "INSERT INTO documents (title, source_lang, target_lang, status, translate)"
        " VALUES ('t', 'fr', 'en', 'done', true) RETURNING id"
    )
    source = one(
        "INSERT INTO source_files (document_id, position, filename, size, status)"
        " VALUES (%s, 0, 'scan.png', 1, 'ingested') RETURNING id",
        document,
    )
    page = one(
        "INSERT INTO pages (document_id, file_id, number, file_index, ocr_status)"
        " VALUES (%s, %s, 1, 0, 'done') RETURNING id",
        document,
        source,
    )
    return one(
        "INSERT INTO segments (document_id, page_id, position, text, normalized,"
        " x0, y0, x1, y1, lines) VALUES (%s, %s, 0, 'a', 'a', 0, 0, 1, 1, '[]') RETURNING id",
        document,
        page,
    )


@pytest.mark.parametrize("domain", ["accounts", "documents", "jobs", "review", "translation"])
def test_each_domains_models_work_in_a_process_that_imports_nothing_else(domain: str) -> None:
    # A worker, a script or the benchmark may import one domain alone; its foreign keys
    # must still find their tables (they once did not: `edits` -> `translations`, `users`).
    code = (
        f"import service.{domain}.models\n"
        "from service.db import Base\n"
        "from sqlalchemy.orm import configure_mappers\n"
        "configure_mappers()\n"
        "print(len(Base.metadata.sorted_tables))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
