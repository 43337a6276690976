"""Processes the benchmarks start as users run them (uvicorn, Celery workers), and their memory.

Memory is read from /proc: RSS per process, and PSS (each shared page divided among the
processes sharing it) summed over a process tree, so forked pool processes that share
their parent's pages are not counted twice.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
PALIMPSEST = [sys.executable, "-m", "service.cli", "--log-level", "warning"]
BENCH_REDIS = os.environ.get("PALIMPSEST_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def use_bench_redis() -> None:
    """Point this process and its children at the benchmark's own Redis database, emptied."""
    os.environ["PALIMPSEST_REDIS_URL"] = BENCH_REDIS
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    from service.config import get_settings
    from service.jobs.queue import client

    get_settings.cache_clear()
    client.cache_clear()


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until check() is true, or fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} within {timeout:.0f} s")


@contextmanager
def started(command: list[str], log_name: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run a command in its own process group; stop the whole group afterwards."""
    log_dir = Path(os.environ.get("PALIMPSEST_DATA_DIR", "/tmp")) / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{log_name}.log").open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=os.environ | (env or {}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def web_server() -> Iterator[tuple[str, int]]:
    """`palimpsest serve` (uvicorn, one process) on a free loopback port: (base URL, pid)."""
    import httpx

    port = free_port()
    command = [*PALIMPSEST, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with started(command, "web") as pid:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{base}/login").status_code == 200, 60, "web did not start")
        yield base, pid


@contextmanager
def worker(queues: str, concurrency: int, env: dict[str, str] | None = None) -> Iterator[int]:
    """`palimpsest worker` as `make run` starts it; returns once it answers a ping."""
    from service.jobs.queue import client

    name = f"bench-{queues.replace(',', '-')}-{concurrency}-{os.getpid()}@%h"
    command = [*PALIMPSEST, "worker", "--queues", queues, "--concurrency", str(concurrency)]
    with started([*command, "--name", name], f"worker-{queues}-{concurrency}", env) as pid:
        wait_for(
            lambda: len(tree(pid)) > concurrency and bool(client().control.ping(timeout=0.5)),
            90,
            "worker did not start",
        )
        yield pid


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    kids, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(kids.get(current, []))
    return found


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int) -> float:
    """Resident set size of one process."""
    return _status_kb(pid, "VmRSS") / 1024


def pss_mb(pid: int) -> float:
    """Proportional set size of one process (its share of shared pages)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def name_of(pid: int) -> str:
    """The command name of a process."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


@dataclass
class Peak:
    """Peak memory seen by a sampler over a process tree."""

    pss_total: float = 0.0
    rss_by_role: dict[str, float] = field(default_factory=dict)


class Sampler:
    """Samples a process tree's memory every `every` seconds in a thread, keeping the peaks.

    Roles: the root process is `main`, `tesseract`/`ocrmypdf` children by their names,
    every other descendant is a `child` (a Celery pool process)."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every = pid, every
        self.peak = Peak()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        """Read the tree's memory once."""
        pids = tree(self.pid)
        self.peak.pss_total = max(self.peak.pss_total, sum(pss_mb(p) for p in pids))
        for pid in pids:
            role = "main" if pid == self.pid else _role(name_of(pid))
            self.peak.rss_by_role[role] = max(self.peak.rss_by_role.get(role, 0.0), rss_mb(pid))


def _role(name: str) -> str:
    if name.startswith("tesseract"):
        return "tesseract"
    return "child"


def _stat_cpu(pid: int, reaped: bool) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped:  # children that ended and were waited for (Tesseract under a pool process)
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process tree so far, children that ended and were reaped included."""
    return sum(_stat_cpu(p, reaped=True) for p in tree(pid))


def server_cpu_seconds() -> float:
    """CPU time so far of every Postgres and Redis server process on the machine."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and name_of(int(entry.name)).startswith(("postgres", "redis")):
            total += _stat_cpu(int(entry.name), reaped=False)
    return total
