"""Two hosts sharing files through object storage: SeaweedFS on loopback stands in for the
bucket, two worker processes with different, empty data directories for two machines.

Host A runs the `default` and `llm` queues (it takes the upload's ingest and the
translation); host B runs only `ocr`. Neither sees the other's disk, nor the web
process's: every page is read from the bucket.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from PIL import Image

from service.documents.models import PROSE_KINDS
from tests.conftest import TEST_REDIS, reset_caches
from tests.fakes.ollama_server import FakeOllama, fake_translation, wait_until
from tests.integration.test_crash_safety import FAST, document, upload
from tests.support.helpers import authed_client
from tests.support.s3server import SeaweedS3
from tests.support.workerproc import spawn_beat, spawn_worker, stop_group, wait_ready

pytestmark = pytest.mark.e2e
FINAL = {"done", "partial", "failed"}
PROSE = {k.value for k in PROSE_KINDS}


@dataclass
class Host:
    """One worker process standing in for a machine: its own data dir and log."""

    name: str
    data_dir: Path
    queues: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"{self.name}.log"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-5000:] if self.log.exists() else ""

    def tasks(self, name: str) -> int:
        """How many tasks of this name the worker finished."""
        return self.log.read_text(errors="replace").count(f"{name} ok in")


@dataclass
class Cluster:
    hosts: list[Host]
    web_dir: Path
    beat: subprocess.Popen[bytes] | None = None
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def logs(self) -> str:
        return "\n".join(f"--- {h.name}\n{h.tail()}" for h in self.hosts)


@pytest.fixture
def shared_bucket(
    s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """This process is the web host: an empty data dir of its own, files in the bucket."""
    env = s3_server.env | {"PALIMPSEST_STORAGE_URL": f"s3://{s3_server.new_bucket()}/pal"}
    web_dir = tmp_path / "web"
    web_dir.mkdir()
    for key, value in (env | {"PALIMPSEST_DATA_DIR": str(web_dir)}).items():
        monkeypatch.setenv(key, value)
    reset_caches()
    yield env
    monkeypatch.undo()
    reset_caches()


@contextmanager
def cluster(env: dict[str, str], ollama: FakeOllama, hosts: list[Host]) -> Iterator[Cluster]:
    """The worker processes and beat, each host with its own data dir."""
    redis.Redis.from_url(TEST_REDIS).flushdb()
    base = dict(os.environ) | FAST | env | {"OLLAMA_HOST": ollama.host}
    running = Cluster(hosts, Path(os.environ["PALIMPSEST_DATA_DIR"]))
    try:
        for host in hosts:
            host.data_dir.mkdir(parents=True)
            host_env = base | {"PALIMPSEST_DATA_DIR": str(host.data_dir)}
            host.process = spawn_worker(host_env, host.log, queues=host.queues)
        for host in hosts:
            assert host.process is not None
            wait_ready(host.process, host.log)
        beat_env = base | {"PALIMPSEST_DATA_DIR": str(hosts[0].data_dir)}
        running.beat = spawn_beat(beat_env, hosts[0].data_dir.parent / "beat.log")
        yield running
    finally:
        for process in [h.process for h in hosts] + [running.beat]:
            if process is not None:
                stop_group(process)


def finish(client: object, document_id: int, running: Cluster, timeout: float = 240) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)

    def done() -> bool:
        return document(client, document_id)["status"] in FINAL

    if not wait_until(done, timeout=timeout, interval=0.5):
        pytest.fail(f"document {document_id} did not finish:\n{running.logs()}")


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_every_page_is_read_by_the_host_that_did_not_receive_the_upload(
    shared_bucket: dict[str, str], worker_ollama: FakeOllama, tmp_path: Path
) -> None:
    a = Host("host-a", tmp_path / "a" / "data", "default,llm")
    b = Host("host-b", tmp_path / "b" / "data", "ocr")
    client = authed_client()
    with cluster(shared_bucket, worker_ollama, [a, b]) as running:
        document_id = upload(client, 4, "Délibérations")
        finish(client, document_id, running)
        shown = document(client, document_id)
        page_image = client.get(f"/api/pages/{shown['pages'][0]['id']}/image")
    assert shown["status"] == "done", running.logs()
    ocr = next(j for j in shown["jobs"] if j["stage"] == "ocr")
    assert ocr["done"] == ocr["total"] == 4
    assert b.tasks("palimpsest.ocr_page") == 4 and a.tasks("palimpsest.ocr_page") == 0
    assert a.tasks("palimpsest.ingest_document") == 1  # the host that took the upload
    segments = client.get(f"/api/documents/{document_id}/segments").json()
    assert {s["page"] for s in segments} == {1, 2, 3, 4}
    prose = [s for s in segments if s["kind"] in PROSE]
    assert len(prose) >= 4
    for segment in prose:
        assert segment["translation"]["text"] == fake_translation(segment["normalized"])
    assert page_image.status_code == 200, page_image.text  # streamed from the bucket
    with Image.open(io.BytesIO(page_image.content)) as image:
        assert page_image.headers["content-type"] == Image.MIME[image.format or ""]
        assert image.width > 1000
    # Host B read the upload from the bucket into its cache; the web host wrote nothing.
    assert shown["files"][0]["sha256"] in {p.name for p in files_under(b.data_dir / "cache")}
    assert files_under(running.web_dir) == []


def test_the_object_store_restarted_during_a_document(
    shared_bucket: dict[str, str],
    s3_server: SeaweedS3,
    worker_ollama: FakeOllama,
    tmp_path: Path,
) -> None:
    """SeaweedFS stops while pages are being read and comes back: the steps that met it
    away retry, and the document ends done with every page read once."""
    a = Host("host-a", tmp_path / "a" / "data", "default,llm,ocr")
    client = authed_client()
    # Retries back off up to 15 s: 8 retries span 75 s, longer than the store is away.
    patient = shared_bucket | {"PALIMPSEST_RETRY_BACKOFF_MAX_S": "15"}
    with cluster(patient, worker_ollama, [a]) as running:
        document_id = upload(client, 8, "Registre")

        def some_read() -> bool:
            ocr = next(j for j in document(client, document_id)["jobs"] if j["stage"] == "ocr")
            return bool(ocr["done"])

        assert wait_until(some_read, timeout=120, interval=0.05), running.logs()
        s3_server.stop()
        ocr = next(j for j in document(client, document_id)["jobs"] if j["stage"] == "ocr")
        assert ocr["done"] < ocr["total"], ocr  # the store went away mid-document
        assert wait_until(lambda: "cannot be reached" in a.tail(), timeout=60), a.tail()
        s3_server.start()
        finish(client, document_id, running)
        shown = document(client, document_id)
    assert shown["status"] == "done", running.logs()
    ocr = next(j for j in shown["jobs"] if j["stage"] == "ocr")
    assert ocr["done"] == ocr["total"] == 8 and ocr["failed"] == 0, running.logs()
    assert "retrying in" in a.log.read_text()
    assert files_under(running.web_dir) == []
