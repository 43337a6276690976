"""The suite itself runs with outbound connections blocked: prove the guard is active."""

import os
import socket
import subprocess
import sys

import pytest

from tests.conftest import NETGUARD_LOG


def test_this_process_cannot_reach_another_host() -> None:
    with pytest.raises(ConnectionRefusedError, match="blocked in tests"), socket.socket() as s:
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: would time out, not refuse, if it went out
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.org", 443)
    NETGUARD_LOG.unlink()  # these two were expected


def test_child_processes_are_guarded_too() -> None:
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=5)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=30,
    )
    assert result.returncode != 0 and "blocked in tests" in result.stderr
    NETGUARD_LOG.unlink()


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
