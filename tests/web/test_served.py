"""The app as `palimpsest serve` runs it (uvicorn, real sockets): forwarded headers are
trusted only from configured proxies."""

from __future__ import annotations

import httpx
import redis

from tests.conftest import DATA_DIR
from tests.helpers import authed_client
from tests.servers import served

RIGHT = "correct horse battery"


def login(url: str, password: str, forwarded_for: str) -> int:
    headers = {"origin": url, "x-forwarded-for": forwarded_for}
    form = {"username": "tyche", "password": password}
    return httpx.post(f"{url}/login", data=form, headers=headers).status_code


def test_x_forwarded_for_is_ignored_unless_it_comes_from_a_trusted_proxy(
    redis_client: redis.Redis,
) -> None:
    authed_client("editor", username="tyche")
    with served(DATA_DIR / "served.log") as url:  # PALIMPSEST_TRUSTED_PROXIES unset
        # A new X-Forwarded-For each time changes nothing: the peer address is counted.
        assert [login(url, "wrong", f"203.0.113.{n}") for n in range(5)] == [401] * 5
        assert login(url, RIGHT, "203.0.113.77") == 429
    redis_client.flushdb()
    with served(DATA_DIR / "served.log", PALIMPSEST_TRUSTED_PROXIES="127.0.0.1") as url:
        # Behind a proxy on this machine, the client it names is counted: five failures of
        # one client do not block another one.
        assert [login(url, "wrong", "203.0.113.5") for _ in range(5)] == [401] * 5
        assert login(url, RIGHT, "203.0.113.5") == 429
        assert login(url, RIGHT, "192.0.2.8") == 303
