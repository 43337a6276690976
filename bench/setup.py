"""A scratch database for benchmarks, and synthetic documents of any size."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

BASE_URL = os.environ.get(
    "PALIMPSEST_BENCH_DATABASE_URL",
    "postgresql+psycopg://palimpsest:palimpsest@127.0.0.1:5432/palimpsest",
)
BENCH_DB = os.environ.get("PALIMPSEST_BENCH_DB", "palimpsest_bench")


def _admin(statement: str) -> None:
    admin = make_url(BASE_URL).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(statement)


@contextmanager
def bench_database() -> Iterator[str]:
    """Point settings at a fresh, migrated scratch database; drop it afterwards."""
    url = make_url(BASE_URL).set(database=BENCH_DB).render_as_string(hide_password=False)
    _admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{BENCH_DB}"')
    os.environ["PALIMPSEST_DATABASE_URL"] = url
    scratch = None
    if "PALIMPSEST_DATA_DIR" not in os.environ:
        scratch = tempfile.mkdtemp(prefix="palimpsest-bench-")
        os.environ["PALIMPSEST_DATA_DIR"] = scratch
    from service.config import get_settings
    from service.db import reset_engine
    from service.migrate import upgrade

    get_settings.cache_clear()
    reset_engine()
    upgrade(url)
    try:
        yield url
    finally:
        reset_engine()
        _admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if scratch is not None:  # uploads, page images and a copy of the model
            shutil.rmtree(scratch, ignore_errors=True)
            del os.environ["PALIMPSEST_DATA_DIR"]


LOREM = (
    "Plaignez, Messieurs, ces êtres infortunés, qui préfèrent de languir dans l'oisiveté "
    "à goûter les douceurs qu'on trouve à s'instruire, numéro {n}."
)


def seed_document(session: Session, pages: int, segments_per_page: int) -> int:
    """A translated document with word boxes on every segment; returns its id."""
    from service.documents.models import (
        Document,
        DocumentStatus,
        FileStatus,
        OcrStatus,
        Page,
        Segment,
        SourceFile,
    )
    from service.jobs import service as jobs
    from service.text import normalise, source_hash
    from service.translation.models import Translation, TranslationStatus

    document = Document(
        title="Benchmark",
        source_lang="fr",
        target_lang="en",
        status=DocumentStatus.DONE,
        backend="ollama",
        model="llama3.2:3b",
    )
    session.add(document)
    session.flush()
    jobs.create_for_document(session, document.id, translate=True)
    source = SourceFile(
        document_id=document.id,
        position=0,
        filename="bench.pdf",
        size=1,
        sha256="0" * 64,
        media_type="application/pdf",
        page_count=pages,
        status=FileStatus.INGESTED,
    )
    session.add(source)
    session.flush()
    for number in range(1, pages + 1):
        page = Page(
            document_id=document.id,
            file_id=source.id,
            number=number,
            file_index=number - 1,
            width=2480,
            height=3508,
            dpi=300,
            ocr_status=OcrStatus.DONE,
            mean_confidence=88.0,
            image_sha256=None,
        )
        session.add(page)
        session.flush()
        for position in range(segments_per_page):
            text = LOREM.format(n=f"{number}.{position}")
            words = [
                {
                    "text": w,
                    "bbox": [10 * i, 10, 10 * i + 9, 30],
                    "conf": 40.0 if i % 9 == 0 else 93.0,
                }
                for i, w in enumerate(text.split(" "))
            ]
            segment = Segment(
                document_id=document.id,
                page_id=page.id,
                position=position,
                text=text,
                normalized=normalise(text),
                x0=100,
                y0=10 + 6 * position,
                x1=2300,
                y1=14 + 6 * position,
                lines=[{"bbox": [100, 10, 2300, 30], "text": text, "words": words}],
                confidence=88.0,
                min_confidence=40.0,
            )
            session.add(segment)
            session.flush()
            session.add(
                Translation(
                    segment_id=segment.id,
                    document_id=document.id,
                    backend="ollama",
                    model="llama3.2:3b",
                    text=f"Pity, gentlemen, these unfortunate beings, number {number}.{position}.",
                    status=TranslationStatus.MACHINE,
                    source_hash=source_hash(segment.normalized),
                )
            )
    session.commit()
    return document.id


def login_token(role: str = "admin") -> str:
    """A session token of a new benchmark user (the web app requires a login)."""
    from service.accounts import service as accounts
    from service.accounts.models import Role
    from service.db import unit_of_work

    with unit_of_work() as session:
        user = accounts.create_user(session, f"bench-{role}", "benchmark password", Role(role))
        return accounts.start_session(session, user)
