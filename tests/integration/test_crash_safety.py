"""Nothing is lost when things die: real worker and beat processes, real Tesseract, Redis and
Postgres servers of the test's own that it kills and restarts, and the Ollama stand-in made
slow enough (or stopped) for a kill to land in the middle of the work."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.db import unit_of_work
from service.documents.models import PROSE_KINDS, OcrStatus, Page, Segment
from service.jobs import claims
from service.jobs.steps import Step, TaskName
from service.translation.models import Translation
from tests.conftest import DATA_DIR, TEST_REDIS
from tests.fakes.ollama_server import FakeOllama, fake_translation, running, wait_until
from tests.support.helpers import authed_client, encode, text_image
from tests.support.servers import ThrowawayPostgres, ThrowawayRedis, free_port
from tests.support.workerproc import kill_group, spawn_beat, spawn_worker, stop_group, wait_ready

pytestmark = pytest.mark.e2e

# Seconds, scaled down from the defaults (60, 120, 5, 300) so the tests take a minute.
FAST = {
    "PALIMPSEST_RECONCILE_INTERVAL_S": "1",
    "PALIMPSEST_RECONCILE_STALL_S": "4",
    "PALIMPSEST_RETRY_BACKOFF_S": "1",
    "PALIMPSEST_RETRY_BACKOFF_MAX_S": "3",
    "PALIMPSEST_TRANSLATION_TOKEN_BUDGET": "64",  # small batches: many tasks to land in
}
FINAL = {"done", "partial", "failed"}
TOWNS = ["Lyon", "Nantes", "Rouen", "Dijon", "Reims", "Amiens", "Tours", "Blois"]


def book(pages: int) -> bytes:
    """A multi-page TIFF, three French paragraphs a page, no two alike."""
    images = [
        text_image(
            [
                [f"Le conseil de {town} s'est assemblé", f"le {n + 2} du mois de mai."],
                [f"On a résolu de réparer le pont de {town}", "avant l'hiver prochain."],
                [f"Les échevins de {town} ont signé", "la présente délibération."],
            ]
        )
        for n, town in enumerate(TOWNS[:pages])
    ]
    return encode(images[0], "TIFF", save_all=True, append_images=images[1:])


@dataclass
class Stack:
    """The worker and beat processes of one test, restartable."""

    env: dict[str, str]
    log: Path
    worker: subprocess.Popen[bytes] | None = None
    beat: subprocess.Popen[bytes] | None = None
    kills: list[str] = field(default_factory=list)

    def start_worker(self) -> None:
        self.worker = spawn_worker(self.env, self.log)
        wait_ready(self.worker, self.log)

    def kill_worker(self, why: str) -> None:
        """SIGKILL the worker and its pool children, then start a new one."""
        assert self.worker is not None
        kill_group(self.worker)
        self.kills.append(why)
        self.start_worker()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""


@contextmanager
def processes(name: str) -> Iterator[Stack]:
    """A worker on every queue and `palimpsest beat`, with the environment as configured."""
    stack = Stack(dict(os.environ), DATA_DIR / f"{name}.log")
    stack.log.unlink(missing_ok=True)
    stack.beat = spawn_beat(stack.env, stack.log)
    try:
        stack.start_worker()
        yield stack
    finally:
        for process in (stack.worker, stack.beat):
            if process is not None:
                stop_group(process)


def upload(client: TestClient, pages: int, title: str, translate: bool = True) -> int:
    response = client.post(
        "/api/documents",
        data={
            "source_lang": "fr",
            "target_lang": "en",
            "backend": "ollama",
            "model": "llama3.2:3b",
            "title": title,
            "translate": str(translate).lower(),
        },
        files=[("files", ("minutes.tif", book(pages), "image/tiff"))],
    )
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


def document(client: TestClient, document_id: int) -> dict[str, Any]:
    response = client.get(f"/api/documents/{document_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def stage(client: TestClient, document_id: int, name: str) -> dict[str, Any]:
    return next(j for j in document(client, document_id)["jobs"] if j["stage"] == name)


def finish(client: TestClient, document_id: int, stack: Stack, timeout: float = 180) -> None:
    def done() -> bool:
        return document(client, document_id)["status"] in FINAL

    if not wait_until(done, timeout=timeout, interval=0.5):
        pytest.fail(f"document {document_id} did not finish:\n{stack.tail()}")


def wait_for(condition: Callable[[], bool], what: str, stack: Stack, timeout: float = 120) -> None:
    if not wait_until(condition, timeout=timeout, interval=0.05):
        pytest.fail(f"never saw: {what}\n{stack.tail()}")


def snapshot(document_id: int) -> list[tuple[Any, ...]]:
    """Every segment with its place, text, box and translations (a duplicate shows twice)."""
    with unit_of_work() as session:
        rows = session.execute(
            select(
                Page.number,
                Page.ocr_status,
                Segment.position,
                Segment.kind,
                Segment.text,
                Segment.x0,
                Segment.y0,
                Segment.x1,
                Segment.y1,
                Translation.text,
                Translation.status,
            )
            .join(Segment, Segment.page_id == Page.id, isouter=True)
            .join(Translation, Translation.segment_id == Segment.id, isouter=True)
            .where(Page.document_id == document_id)
            .order_by(Page.number, Segment.position, Translation.id)
        ).all()
    return [tuple(row) for row in rows]


def assert_complete(document_id: int, pages: int) -> None:
    """Every page read, every prose segment translated once, onto itself."""
    with unit_of_work() as session:
        page_rows = session.scalars(select(Page).where(Page.document_id == document_id)).all()
        assert sorted(p.number for p in page_rows) == list(range(1, pages + 1))
        assert {p.ocr_status for p in page_rows} == {OcrStatus.DONE}
        segments = session.scalars(select(Segment).where(Segment.document_id == document_id)).all()
        by_page: dict[int, list[int]] = {}
        for segment in segments:
            by_page.setdefault(segment.page_id, []).append(segment.position)
        assert all(sorted(p) == list(range(len(p))) for p in by_page.values())
        translated = session.execute(
            select(Translation.segment_id, Translation.text).where(
                Translation.document_id == document_id
            )
        ).all()
        prose = {s.id: s.normalized for s in segments if s.kind in PROSE_KINDS}
        assert sorted(seg for seg, _ in translated) == sorted(prose)
        assert all(text == fake_translation(prose[seg]) for seg, text in translated)


def ocr_in_flight(document_id: int) -> bool:
    """Some page read and committed, and another being read right now."""
    with unit_of_work() as session:
        rows = session.execute(
            select(Page.id, Page.ocr_status).where(Page.document_id == document_id)
        ).all()
        statuses = {row.id: row.ocr_status for row in rows}
        running = claims.running_keys(session)
    pending = [p for p, s in statuses.items() if s is OcrStatus.PENDING]
    started = any(claims.step_key(Step(TaskName.OCR_PAGE, (p,))) in running for p in pending)
    return started and len(pending) < len(statuses)


def test_sigkill_of_the_worker_three_times_mid_document_loses_and_duplicates_nothing(
    configure: Callable[..., None], embedded_model: Path
) -> None:
    redis.Redis.from_url(TEST_REDIS).flushdb()
    with running(FakeOllama(delay=1.0)) as ollama:
        configure(**FAST, OLLAMA_HOST=ollama.host)
        with processes("sigkill") as stack:
            client = authed_client()
            reference = upload(client, 6, "Uninterrupted")
            finish(client, reference, stack)
            expected = snapshot(reference)
            assert document(client, reference)["status"] == "done", stack.tail()
            assert client.delete(f"/api/documents/{reference}").status_code == 204  # and memory

            killed = upload(client, 6, "Killed three times")
            wait_for(lambda: ocr_in_flight(killed), "a page being read", stack)
            stack.kill_worker("mid-OCR")
            translated = 0

            def mid_translation() -> bool:
                nonlocal translated
                done = int(stage(client, killed, "translate")["done"])
                if ollama.in_flight > 0 and done > translated:
                    translated = done
                    return True
                return False

            wait_for(mid_translation, "a batch at the model after some were stored", stack)
            stack.kill_worker("mid-translation")
            wait_for(mid_translation, "another batch at the model after more progress", stack)
            stack.kill_worker("mid-translation again")
            finish(client, killed, stack)

    assert stack.kills == ["mid-OCR", "mid-translation", "mid-translation again"]
    assert document(client, killed)["status"] == "done", stack.tail()
    assert snapshot(killed) == expected
    assert_complete(killed, 6)
    assert "re-sending" in stack.log.read_text()  # the reconciler brought the lost tasks back


def read_but_untranslated(document_id: int) -> bool:
    """A page read and committed whose translation has not been stored, others unread."""
    with unit_of_work() as session:
        statuses = dict(
            session.execute(
                select(Page.id, Page.ocr_status).where(Page.document_id == document_id)
            ).all()
        )
        translated = set(
            session.scalars(
                select(Segment.page_id)
                .join(Translation, Translation.segment_id == Segment.id)
                .where(Segment.document_id == document_id)
            )
        )
    read = [p for p, status in statuses.items() if status is OcrStatus.DONE]
    unread = [p for p, status in statuses.items() if status is OcrStatus.PENDING]
    return bool(unread) and any(p not in translated for p in read)


def test_sigkill_between_a_pages_ocr_and_its_translation_loses_nothing(
    configure: Callable[..., None], embedded_model: Path
) -> None:
    """Translation starts page by page while OCR goes on; a worker killed after reading a
    page and before translating it leaves nothing behind: every page read, every segment
    translated once, onto itself."""
    redis.Redis.from_url(TEST_REDIS).flushdb()
    with running(FakeOllama(delay=1.0)) as ollama:
        configure(**FAST, OLLAMA_HOST=ollama.host)
        with processes("sigkill-between") as stack:
            client = authed_client()
            killed = upload(client, 6, "Killed between OCR and translation")
            wait_for(lambda: read_but_untranslated(killed), "a page read, not translated", stack)
            stack.kill_worker("between OCR and translation")
            finish(client, killed, stack)

    assert document(client, killed)["status"] == "done", stack.tail()
    assert_complete(killed, 6)


def test_a_redis_restart_mid_document_loses_nothing(
    configure: Callable[..., None], embedded_model: Path
) -> None:
    server = ThrowawayRedis(DATA_DIR / "redis-restart-server.log")
    server.start()
    try:
        with running(FakeOllama(delay=0.3)) as ollama:
            configure(**FAST, OLLAMA_HOST=ollama.host, PALIMPSEST_REDIS_URL=server.url)
            with processes("redis-restart") as stack:
                client = authed_client()
                document_id = upload(client, 5, "Through a Redis restart")
                wait_for(lambda: ocr_in_flight(document_id), "a page being read", stack)
                server.kill()  # every queue is gone with it
                server.start()
                finish(client, document_id, stack)
                assert document(client, document_id)["status"] == "done", stack.tail()
    finally:
        server.kill()
    assert_complete(document_id, 5)
    assert "re-sending" in stack.log.read_text()


@pytest.fixture(scope="module")
def postgres() -> Iterator[ThrowawayPostgres]:
    """A Postgres of this module's own, migrated."""
    from service.migrate import upgrade

    server = ThrowawayPostgres()
    server.init()
    upgrade(server.url)
    yield server
    server.destroy()


def test_the_web_answers_503_while_postgres_is_down_and_works_again_after(
    postgres: ThrowawayPostgres, configure: Callable[..., None]
) -> None:
    configure(PALIMPSEST_DATABASE_URL=postgres.url)
    client = authed_client()
    assert client.get("/api/documents").status_code == 200
    postgres.stop()
    try:
        api = client.get("/api/documents")
        assert api.status_code == 503
        assert api.json()["error"] == "service_unavailable"
        page = client.get("/", headers={"accept": "text/html"})
        assert page.status_code == 503
        assert "database is not reachable" in page.text
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["database"].startswith("error")
    finally:
        postgres.start()
    assert client.get("/api/documents").status_code == 200  # the pool reconnected by itself
    assert client.get("/health").json()["database"] == "ok"


def test_a_task_retries_through_a_postgres_restart(
    postgres: ThrowawayPostgres, configure: Callable[..., None], embedded_model: Path
) -> None:
    redis.Redis.from_url(TEST_REDIS).flushdb()
    with running(FakeOllama()) as ollama:
        configure(**FAST, OLLAMA_HOST=ollama.host, PALIMPSEST_DATABASE_URL=postgres.url)
        client = authed_client()
        document_id = upload(client, 2, "Through a Postgres restart")
        postgres.stop()  # before any worker could take the document
        try:
            with processes("postgres-restart") as stack:
                wait_for(
                    lambda: "database unavailable; retrying" in stack.log.read_text(),
                    "a task retrying while the database is down",
                    stack,
                    timeout=60,
                )
                postgres.start()
                finish(client, document_id, stack)
        finally:
            if not wait_until(lambda: _accepts(postgres), timeout=1):
                postgres.start()
    assert document(client, document_id)["status"] == "done", stack.tail()
    assert_complete(document_id, 2)


def _accepts(server: ThrowawayPostgres) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{server.port}/palimpsest", connect_timeout=1
        ):
            return True
    except psycopg.OperationalError:
        return False


def test_ollama_gone_for_a_while_shows_waiting_for_model_and_resumes_by_itself(
    configure: Callable[..., None], embedded_model: Path
) -> None:
    redis.Redis.from_url(TEST_REDIS).flushdb()
    port = free_port()
    configure(**FAST, OLLAMA_HOST=f"http://127.0.0.1:{port}")
    with processes("ollama-outage") as stack:
        client = authed_client()
        with running(FakeOllama(delay=0.5), port=port):
            document_id = upload(client, 4, "Through an Ollama outage")
            wait_for(
                lambda: int(stage(client, document_id, "translate")["done"]) > 0,
                "the first translations",
                stack,
            )
        # The stand-in stopped listening: every connection is refused until it is back.
        wait_for(
            lambda: "not running at" in (stage(client, document_id, "translate")["waiting"] or ""),
            "the translate stage waiting for the model",
            stack,
        )
        # Answers already under way when it stopped may still land; then it waits again.
        wait_for(
            lambda: (
                "Ollama is not running at" in (panel := progress(client, document_id))
                and "Waiting for the model for" in panel
                and "waiting for model" in client.get("/documents/table").text
            ),
            "the progress panel and the dashboard saying so",
            stack,
        )
        assert document(client, document_id)["status"] == "processing"
        with running(FakeOllama(), port=port):  # back on the same port
            finish(client, document_id, stack)
        result = document(client, document_id)
        assert result["status"] == "done", stack.tail()
        translate = next(j for j in result["jobs"] if j["stage"] == "translate")
        assert translate["waiting"] is None and translate["failed"] == 0
        assert_complete(document_id, 4)

        # A reviewer's re-translation while the server is gone waits the same way.
        segment = client.get(f"/api/documents/{document_id}/segments").json()[0]
        run = client.post(f"/api/segments/{segment['id']}/retranslate").json()
        wait_for(
            lambda: "not running at" in (run_of(client, run["id"])["waiting"] or ""),
            "the re-translation run waiting for the model",
            stack,
        )
        assert "Ollama is not running at" in progress(client, document_id)
        with running(FakeOllama(), port=port):
            wait_for(lambda: run_of(client, run["id"])["status"] == "done", "the run", stack)
    assert run_of(client, run["id"])["waiting"] is None


def progress(client: TestClient, document_id: int) -> str:
    """The document page's progress panel, whitespace folded."""
    return " ".join(client.get(f"/documents/{document_id}/progress").text.split())


def run_of(client: TestClient, run_id: int) -> dict[str, Any]:
    return dict(client.get(f"/api/translation-runs/{run_id}").json())
