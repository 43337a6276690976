"""A real Celery worker process on the test database and Redis, and an Ollama stand-in for it.

Imported by the conftest of every test package that needs them (integration, browser).
"""

from __future__ import annotations

import contextlib
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


WORKER_ARGS = ["-O", "fair", "--prefetch-multiplier", "1", "--without-gossip", "--without-mingle"]


def spawn_worker(
    env: dict[str, str], log_path: Path, queues: str = "ocr,llm,default", concurrency: int = 2
) -> subprocess.Popen[bytes]:
    """`celery worker` as `make run` starts it, in its own process group, logging to a file."""
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    command = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker"]
    command += ["-Q", queues, "-c", str(concurrency), "-n", name, "--loglevel", "INFO"]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command + WORKER_ARGS,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def spawn_beat(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`palimpsest beat`, which sends the reconciler on its schedule."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli", "beat"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait until a worker answers a ping (on the broker the test's settings name)."""
    from service.jobs.queue import client

    if not wait_until(lambda: bool(client().control.ping(timeout=1.0)), timeout=60):
        kill_group(process)
        pytest.fail("worker did not start:\n" + log_path.read_text()[-4000:])


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal a process and everything it started (a worker's pool children, Tesseract)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(timeout=30)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a worker as Ctrl-C would, killing it if it does not end."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        kill_group(process)


@pytest.fixture(scope="module")
def worker(worker_ollama: FakeOllama, embedded_model: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`celery worker` on every queue, as `make run` starts it, with its log kept for failures.

    Module-scoped: it must be gone before other tests enqueue tasks it would pick up.
    """
    redis.Redis.from_url(TEST_REDIS).flushdb()
    log_path = DATA_DIR / "worker.log"
    log_path.unlink(missing_ok=True)
    process = spawn_worker(os.environ | {"OLLAMA_HOST": worker_ollama.host}, log_path)
    reset_caches()
    wait_ready(process, log_path)
    yield process
    stop_group(process)


def worker_log() -> str:
    """The end of the worker's log, to explain a failure."""
    path = DATA_DIR / "worker.log"
    return path.read_text(errors="replace")[-6000:] if path.exists() else "(no log)"
