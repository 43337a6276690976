"""Backup and restore, once, as an administrator would: scripts/backup.sh while the service
holds a processed document, scripts/restore.sh into a fresh database and storage folder,
then the document opens there with its page image, segments and translations."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from service.config import PROJECT_ROOT
from service.jobs import pipeline
from service.jobs.runner import run_inline
from service.storage import store_for_url
from tests.conftest import BASE_URL, TEST_DB, TEST_URL
from tests.fakes.ollama_server import FakeOllama
from tests.support.helpers import authed_client
from tests.support.s3server import SeaweedS3
from tests.workers.test_pipeline import french_png, upload

RESTORED_DB = f"{TEST_DB}_restored"


def admin(sql: str) -> None:
    url = make_url(BASE_URL).set(drivername="postgresql", database="postgres")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database to restore into, dropped afterwards."""
    admin(f'DROP DATABASE IF EXISTS "{RESTORED_DB}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{RESTORED_DB}"')
    yield make_url(TEST_URL).set(database=RESTORED_DB).render_as_string(hide_password=False)
    from service.db import reset_engine

    reset_engine()
    admin(f'DROP DATABASE IF EXISTS "{RESTORED_DB}" WITH (FORCE)')


def script(name: str, argument: Path, **env: str) -> str:
    result = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / name), str(argument)],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_backup_restored_into_a_fresh_database_opens_the_document(
    ollama: FakeOllama, fresh_database: str, configure: Callable[..., None]
) -> None:
    document_id = upload([("deliberations.png", french_png())], title="Délibérations 1783")
    run_inline(pipeline.default_context(), pipeline.start(document_id))
    client = authed_client("viewer")
    before = client.get(f"/api/documents/{document_id}").json()
    segments = client.get(f"/api/documents/{document_id}/segments").json()
    assert before["status"] == "done" and len(segments) == 2
    assert all(s["translation"]["text"] for s in segments)
    image_url = before["pages"][0]["image_url"]
    image = client.get(image_url).content

    with tempfile.TemporaryDirectory() as backups, tempfile.TemporaryDirectory() as new_home:
        out = script("backup.sh", Path(backups))
        backup = Path(out.strip().rsplit(" ", 1)[-1])
        assert {p.name for p in backup.iterdir()} >= {"database.dump", "storage.tar"}
        assert backup.stat().st_mode & 0o077 == 0  # the backup is the owner's only

        storage = Path(new_home) / "storage"
        moved = {"PALIMPSEST_DATABASE_URL": fresh_database, "PALIMPSEST_STORAGE_DIR": str(storage)}
        script("restore.sh", backup, **moved)
        with pytest.raises(AssertionError, match="not empty"):
            script("restore.sh", backup, **moved)  # never over existing data

        configure(**moved)
        restored = authed_client("viewer")
        page = restored.get(f"/documents/{document_id}")
        assert page.status_code == 200 and "Délibérations 1783" in page.text
        after = restored.get(f"/api/documents/{document_id}").json()
        assert (after["title"], after["status"]) == (before["title"], "done")
        assert restored.get(f"/api/documents/{document_id}/segments").json() == segments
        served = restored.get(image_url)
        assert served.status_code == 200
        assert hashlib.sha256(served.content).digest() == hashlib.sha256(image).digest()
        assert restored.get("/api/search", params={"q": "conseil"}).json()  # search index too


def test_a_backup_covers_the_object_store_and_restores_into_a_new_prefix(
    ollama: FakeOllama,
    fresh_database: str,
    configure: Callable[..., None],
    s3_server: SeaweedS3,
) -> None:
    """With files in a bucket, the backup copies them out (verified by hash) into the same
    storage.tar, and restore copies them into an empty prefix the restored database uses."""
    bucket = s3_server.new_bucket()
    configure(**s3_server.env, PALIMPSEST_STORAGE_URL=f"s3://{bucket}/live")
    document_id = upload([("deliberations.png", french_png())], title="Délibérations 1784")
    run_inline(pipeline.default_context(), pipeline.start(document_id))
    client = authed_client("viewer")
    image_url = client.get(f"/api/documents/{document_id}").json()["pages"][0]["image_url"]
    image = client.get(image_url).content
    live = {d for d, _ in store_for_url(f"s3://{bucket}/live", s3_server.endpoint).digests()}
    assert len(live) >= 1

    with tempfile.TemporaryDirectory() as backups:
        out = script("backup.sh", Path(backups))
        backup = Path(out.strip().rsplit(" ", 1)[-1])
        assert (backup / "storage-url.txt").read_text().strip() == f"s3://{bucket}/live"
        with tarfile.open(backup / "storage.tar") as tar:
            assert {Path(n).name for n in tar.getnames()} >= live

        moved = {
            "PALIMPSEST_DATABASE_URL": fresh_database,
            "PALIMPSEST_STORAGE_URL": f"s3://{bucket}/restored",
        }
        script("restore.sh", backup, **moved)
        restored_store = store_for_url(f"s3://{bucket}/restored", s3_server.endpoint)
        assert {d for d, _ in restored_store.digests()} == live
        admin(f'DROP DATABASE "{RESTORED_DB}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{RESTORED_DB}"')  # an empty database, but the prefix is used
        with pytest.raises(AssertionError, match=f"s3://{bucket}/restored already holds files"):
            script("restore.sh", backup, **moved)  # never over existing files
        script("restore.sh", backup, **moved | {"PALIMPSEST_STORAGE_URL": f"s3://{bucket}/r2"})

        configure(**moved)
        served = authed_client("viewer").get(image_url)
        assert served.status_code == 200 and served.content == image
