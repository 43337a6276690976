"""llama-cpp-python's own OpenAI-compatible server (`llama_cpp.server`) with a real GGUF.

It is the real thing, not a stand-in: the OpenAI backend is tested against the same
server users run, with the bundled Gemma 3 270M, offline.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.fakes.ollama_server import wait_until


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def llama_server(model: Path, alias: str, log: Path) -> Iterator[str]:
    """Serve a GGUF on a free port; yields the base URL (`…/v1`)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        alias,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
        "--seed",
        "42",
    ]
    base = f"http://127.0.0.1:{port}/v1"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        if not wait_until(lambda: _answers(base), timeout=120, interval=0.5):
            raise RuntimeError("llama_cpp.server did not start:\n" + log.read_text()[-3000:])
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/models", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
