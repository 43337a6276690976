"""A real Celery worker process on the test database and Redis, and an Ollama stand-in for it.

Imported by the conftest of every test package that needs them (integration, browser).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import DATA_DIR, TEST_REDIS, reset_caches
from tests.fakes.ollama_server import FakeOllama, running, wait_until


@pytest.fixture(scope="session")
def worker_ollama() -> Iterator[FakeOllama]:
    """The stand-in the worker process talks to, for the whole session."""
    with running() as state:
        yield state


@pytest.fixture(scope="module")
def worker(worker_ollama: FakeOllama, embedded_model: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`celery worker` on every queue, as `make run` starts it, with its log kept for failures.

    Module-scoped: it must be gone before other tests enqueue tasks it would pick up.
    """
    redis.Redis.from_url(TEST_REDIS).flushdb()
    log_path = DATA_DIR / "worker.log"
    env = os.environ | {"OLLAMA_HOST": worker_ollama.host}
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "-Q",
                "ocr,llm,default",
                "-c",
                "2",
                "-O",
                "fair",
                "--prefetch-multiplier",
                "1",
                "-n",
                name,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    reset_caches()
    from service.jobs.queue import client

    if not wait_until(lambda: bool(client().control.ping(timeout=1.0)), timeout=60):
        process.kill()
        pytest.fail("worker did not start:\n" + log_path.read_text()[-4000:])
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def worker_log() -> str:
    """The end of the worker's log, to explain a failure."""
    path = DATA_DIR / "worker.log"
    return path.read_text(errors="replace")[-6000:] if path.exists() else "(no log)"
