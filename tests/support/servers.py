"""Throwaway Redis and Postgres servers of the tests' own, on free ports, to kill and restart;
the web app served by `palimpsest serve` as `make run` starts it; a IIIF server.

The machine's shared servers are never stopped: other people's tests run on them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import redis

from tests.fakes.ollama_server import wait_until
from tests.support.helpers import encode, text_image


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayRedis:
    """`redis-server` without persistence: a restart loses every queue, as a crash does."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or start again) on the same port and wait until it answers."""
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        if not wait_until(lambda: _answers(client), timeout=20):
            raise RuntimeError("redis-server did not start:\n" + self.log_path.read_text())

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing saved."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    path = str(found[-1]) if found else shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} is not installed: apt-get install postgresql")
    return path


class ThrowawayPostgres:
    """A Postgres cluster in a temporary folder (initdb + pg_ctl) with trust authentication."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="palimpsest-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/palimpsest"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        """Create the cluster, start it and create the `palimpsest` database."""
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust")
        self.start()
        dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE palimpsest")

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log_path),
            "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop at once (open connections are cut), as a crash or a restart does."""
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        """Stop if running and remove the folder."""
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def served(log_path: Path, **env: str) -> Iterator[str]:
    """`palimpsest serve` on a free port with extra environment; yields its base URL."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "service.cli", "--log-level", "warning", "serve"]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            env=os.environ | env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    try:
        if not wait_until(up, timeout=30):
            raise RuntimeError("the web app did not start:\n" + log_path.read_text()[-3000:])
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


class IiifServer:
    """Serves manifests and images from memory and records every request's Host and path."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        self.redirects: dict[str, str] = {}
        self.statuses: dict[str, int] = {}  # paths that answer this error
        self.slow: dict[str, float] = {}  # paths that answer after this many seconds
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.headers.get("Host", ""), self.path))
                time.sleep(server.slow.get(self.path, 0))
                if self.path in server.statuses:
                    self.send_error(server.statuses[self.path])
                    return
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.end_headers()
                    return
                if self.path not in server.files:
                    self.send_error(404)
                    return
                kind, body = server.files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def image(self, path: str, lines: list[str]) -> str:
        self.files[path] = ("image/png", encode(text_image([lines], width=1400), "PNG"))
        return self.base + path

    def manifest(self, path: str, data: dict[str, Any]) -> str:
        self.files[path] = ("application/json", json.dumps(data).encode())
        return self.base + path


class StaticServer:
    """Serves a folder as any static web server would (Python's http.server), on loopback,
    recording every path asked for."""

    def __init__(self, folder: Path) -> None:
        from functools import partial
        from http.server import SimpleHTTPRequestHandler

        self.requests: list[str] = []
        served = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                served.requests.append(self.path)

        handler = partial(Handler, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[StaticServer]:
    """A static server for `folder`, running until the block ends."""
    import threading

    server = StaticServer(folder)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=10)
