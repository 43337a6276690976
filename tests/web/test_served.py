"""The app as `palimpsest serve` runs it (uvicorn, real sockets): forwarded headers are
trusted only from configured proxies."""

from __future__ import annotations

import httpx
import redis

from tests.conftest import DATA_DIR
from tests.support.helpers import authed_client
from tests.support.servers import served

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


def test_hostile_iiif_input_gets_4xx_on_a_connection_that_stays_open(
    redis_client: redis.Redis,
) -> None:
    """Each of these answered 500, which also closes the connection."""
    from service.accounts import service as accounts
    from service.accounts.models import Role
    from service.db import unit_of_work
    from tests.support.hostile import IIIF_MANIFESTS, IIIF_URLS

    with unit_of_work() as session:
        user = accounts.create_user(session, "iris", RIGHT, Role.EDITOR)
        token = accounts.create_token(session, user.id, "probes")[1]
    env = {"PALIMPSEST_IIIF_ALLOWED_HOSTS": "127.0.0.1:8182"}
    with (
        served(DATA_DIR / "served.log", **env) as url,
        httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}) as client,
    ):
        answers = [
            client.post("/api/imports/iiif", data={"manifest_url": u, "source_lang": "fr"})
            for u in IIIF_URLS
        ] + [
            client.post(
                "/api/imports/iiif",
                data={"source_lang": "fr"},
                files={"manifest": ("m.json", m, "application/json")},
            )
            for m in IIIF_MANIFESTS
        ]
        assert [a.status_code for a in answers] == [422] * len(answers)
        assert all(a.json()["message"] for a in answers)
        assert [a.headers.get("connection") for a in answers if a.headers.get("connection")] == []
        assert client.get("/api/documents").json() == []
