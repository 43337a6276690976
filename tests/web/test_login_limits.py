"""Password guessing: limits per account and address and per account alone, a lock-out an
administrator lifts, the password form under the same limits, and Redis state that stays
small whatever is sent."""

from __future__ import annotations

import itertools

import redis
from fastapi.testclient import TestClient

from service.main import create_app
from tests.support.helpers import authed_client

RIGHT = "correct horse battery"
_addresses = itertools.count(1)


def browser_at(address: str | None = None) -> TestClient:
    """A browser on our login page, from its own address (a new one unless given)."""
    host = address or f"198.51.100.{next(_addresses)}"
    return TestClient(create_app(), headers={"origin": "http://testserver"}, client=(host, 40000))


def login(username: str, password: str, address: str | None = None) -> int:
    form = {"username": username, "password": password}
    return browser_at(address).post("/login", data=form, follow_redirects=False).status_code


def test_a_huge_username_is_refused_before_anything_is_stored(redis_client: redis.Redis) -> None:
    huge = "x" * 1_000_000  # a megabyte (Starlette refuses a form field over 1 MiB itself)
    browser = browser_at()
    for _ in range(20):
        response = browser.post("/login", data={"username": huge, "password": "nope"})
        assert response.status_code == 422
        assert "at most 100 characters" in response.text
    assert redis_client.dbsize() == 0
    assert login("no-such-user-" + "y" * 80, "nope") == 401
    keys = redis_client.keys("*")
    assert keys and all(len(k) < 120 and b"no-such-user" not in k for k in keys)
    assert sum(len(redis_client.dump(k) or b"") for k in keys) < 1000


def test_guessing_from_many_addresses_locks_the_account_until_an_admin_lifts_it(
    redis_client: redis.Redis,
) -> None:
    authed_client("editor", username="hypatia")
    for _ in range(20):  # one wrong password from each of 20 addresses
        assert login("hypatia", "wrong password") == 401
    locked = browser_at().post("/login", data={"username": "hypatia", "password": RIGHT})
    assert locked.status_code == 429
    assert "This account is locked after too many failed logins" in locked.text
    assert login("Hypatia", RIGHT, address="203.0.113.9") == 429  # any address, any case

    admin = authed_client("admin")
    listed = {u["username"]: u for u in admin.get("/api/users").json()}
    assert listed["hypatia"]["locked_until"] is not None
    page = admin.get("/admin/users").text
    assert "locked until" in page and 'action="/admin/users/' in page
    hypatia = listed["hypatia"]["id"]
    assert authed_client("editor").post(f"/api/users/{hypatia}/unlock").status_code == 403
    assert admin.post(f"/api/users/{hypatia}/unlock").status_code == 204
    assert admin.get("/api/users").json()[-1]["locked_until"] is None
    assert login("hypatia", RIGHT) == 303


def test_unknown_usernames_lock_like_real_ones(redis_client: redis.Redis) -> None:
    """The answers must not tell which accounts exist."""
    authed_client("editor", username="real")
    for name in ("real", "invented"):
        answers = [login(name, "wrong password") for _ in range(20)]
        assert answers == [401] * 20
        assert login(name, RIGHT) == 429


def test_the_admin_users_page_unlocks_too(redis_client: redis.Redis) -> None:
    authed_client("editor", username="sappho")
    for _ in range(20):
        login("sappho", "wrong password")
    admin = authed_client("admin")
    sappho = next(u["id"] for u in admin.get("/api/users").json() if u["username"] == "sappho")
    unlocked = admin.post(f"/admin/users/{sappho}/unlock", follow_redirects=False)
    assert unlocked.status_code == 303 and "locked until" not in admin.get("/admin/users").text
    assert login("sappho", RIGHT) == 303


def test_the_password_form_limits_guesses_of_the_current_password(
    redis_client: redis.Redis,
) -> None:
    """A stolen session must not become a way to guess the password behind it."""
    thief = authed_client("editor", username="ada")
    for _ in range(5):
        wrong = thief.post("/account/password", data={"current": "guess", "new": "x" * 12})
        assert wrong.status_code == 422 and "The current password is wrong." in wrong.text
    blocked = thief.post("/account/password", data={"current": RIGHT, "new": "y" * 12})
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.text
    assert login("ada", RIGHT) == 303  # the password did not change; other addresses may log in
