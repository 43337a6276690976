"""Blocks outbound network connections in test processes: only loopback and Unix sockets.

Loaded automatically by Python when this folder is on PYTHONPATH (the test suite puts it
there for itself and for the worker and web processes it starts), so any attempt of the
code under test to reach another host fails loudly instead of leaking data.
"""

from __future__ import annotations

import ipaddress
import os
import socket

# Keep the real functions once, even if this module is executed twice.
_real_connect = getattr(socket, "_palimpsest_real_connect", socket.socket.connect)
_real_connect_ex = getattr(socket, "_palimpsest_real_connect_ex", socket.socket.connect_ex)
_real_getaddrinfo = getattr(socket, "_palimpsest_real_getaddrinfo", socket.getaddrinfo)
LOG = os.environ.get("PALIMPSEST_NETGUARD_LOG")


class OutboundConnectionBlocked(ConnectionRefusedError):
    """Raised instead of connecting anywhere but this machine."""


def _is_local(address: object) -> bool:
    if isinstance(address, str | bytes):
        return True  # Unix domain socket
    host = str(address[0]) if isinstance(address, tuple) and address else ""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _record(address: object) -> None:
    if LOG:
        with open(LOG, "a", encoding="utf-8") as log:  # noqa: PTH123 - stdlib only here
            log.write(f"{os.getpid()} blocked {address!r}\n")


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_local(address):
        _record(address)
        raise OutboundConnectionBlocked(f"outbound connection to {address!r} blocked in tests")
    _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_local(address):
        _record(address)
        raise OutboundConnectionBlocked(f"outbound connection to {address!r} blocked in tests")
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name not in ("localhost", "None") and not _is_local((name, 0)):
        _record((name, "dns"))
        raise socket.gaierror(socket.EAI_NONAME, f"name lookup of {name!r} blocked in tests")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


def install() -> None:
    """Replace connect and name lookup by the guarded versions (idempotent)."""
    socket._palimpsest_real_connect = _real_connect  # type: ignore[attr-defined]
    socket._palimpsest_real_connect_ex = _real_connect_ex  # type: ignore[attr-defined]
    socket._palimpsest_real_getaddrinfo = _real_getaddrinfo  # type: ignore[attr-defined]
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]


if os.environ.get("PALIMPSEST_BLOCK_NETWORK") == "1":
    install()
