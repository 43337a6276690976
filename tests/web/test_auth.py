"""Accounts: every route needs a login (but login, health, static), roles, CSRF, tokens,
collection membership, login rate limiting."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.routing import Route

from service.config import PROJECT_ROOT
from service.main import create_app
from tests.support.helpers import authed_client, make_document

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/health")}
LOGOUT = ("POST", "/logout")  # ends the client's session: tried last, on its own
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
SELF_SERVICE = ("/logout", "/account/", "/api/tokens")


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for route in routes:
        if hasattr(route, "original_router"):  # an included router
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)
        else:
            yield prefix, route


def routes() -> list[tuple[str, str]]:
    """Every (method, path) the app serves, path parameters filled with 1."""
    found = []
    for prefix, route in _walk(create_app().routes):
        if isinstance(route, APIRoute | Route):
            path = re.sub(r"\{[^}]+\}", "1", prefix + route.path)
            found += [(method, path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


@pytest.fixture
def anonymous(redis_client: redis.Redis) -> TestClient:
    return TestClient(create_app(), headers={"origin": "http://testserver"})


def test_every_route_but_login_and_health_needs_a_login(anonymous: TestClient) -> None:
    checked = 0
    for method, path in routes():
        if (method, path) in PUBLIC:
            continue
        response = anonymous.request(method, path, follow_redirects=False)
        checked += 1
        if response.status_code == 303:
            assert method == "GET" and response.headers["location"].startswith("/login?next=")
        else:
            assert response.status_code == 401, (method, path, response.status_code)
    assert checked > 40
    assert anonymous.get("/health").status_code == 200
    assert anonymous.get("/static/app.css").status_code == 200
    assert anonymous.get("/login").status_code == 200
    docs = anonymous.get("/api/openapi.json")
    assert docs.status_code == 401  # even the API description is for users only


def test_viewers_read_but_change_nothing(redis_client: redis.Redis, session: Session) -> None:
    viewer = authed_client("viewer")
    document = make_document(session, ["Un."], ["One."])
    assert viewer.get(f"/documents/{document.id}").status_code == 200
    for method, path in routes():
        if (
            method not in STATE_CHANGING
            or (method, path) in PUBLIC
            or path.startswith(SELF_SERVICE)
        ):
            continue
        response = viewer.request(method, path, follow_redirects=False)
        assert response.status_code == 403, (method, path, response.status_code)


def test_editors_change_but_do_not_manage_accounts(redis_client: redis.Redis) -> None:
    editor = authed_client("editor")
    for method, path in routes():
        if (method, path) in PUBLIC or (method, path) == LOGOUT:
            continue
        status = editor.request(method, path, follow_redirects=False).status_code
        if path.startswith(("/admin", "/api/users")):
            assert status == 403, (method, path)
        else:
            assert status not in (401, 403), (method, path, status)
    admin = authed_client("admin")
    assert admin.get("/admin/users").status_code == 200
    assert admin.get("/api/users").status_code == 200


def test_state_changes_must_come_from_our_own_pages(session: Session) -> None:
    document = make_document(session, ["Un."], ["One."])
    segment_id = authed_client().get(f"/api/documents/{document.id}/segments").json()[0]["id"]
    client = authed_client("editor")
    url = f"/api/segments/{segment_id}/approve"
    del client.headers["origin"]
    assert client.post(url).status_code == 403  # no Origin, no Referer
    assert client.post(url, headers={"origin": "https://evil.example"}).status_code == 403
    assert client.post(url, headers={"referer": "http://testserver/documents/1"}).status_code == 200


def test_login_sets_a_safe_cookie_and_logout_ends_it(redis_client: redis.Redis) -> None:
    authed_client("editor", username="clio")
    browser = TestClient(create_app(), headers={"origin": "http://testserver"})
    wrong = browser.post("/login", data={"username": "clio", "password": "nope"})
    assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
    response = browser.post(
        "/login",
        data={"username": "Clio", "password": "correct horse battery", "next": "/search"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/search"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert browser.get("/").status_code == 200
    assert browser.post("/logout", follow_redirects=False).status_code == 303
    again = browser.get("/", headers={"accept": "text/html"}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/login?next=/"


def test_a_login_never_redirects_to_another_site(redis_client: redis.Redis) -> None:
    authed_client("editor", username="hermes")
    browser = TestClient(create_app(), headers={"origin": "http://testserver"})
    response = browser.post(
        "/login",
        data={
            "username": "hermes",
            "password": "correct horse battery",
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_failed_logins_are_rate_limited(redis_client: redis.Redis) -> None:
    authed_client("editor", username="pallas")
    browser = TestClient(create_app(), headers={"origin": "http://testserver"})
    for _ in range(5):
        assert (
            browser.post("/login", data={"username": "pallas", "password": "x"}).status_code == 401
        )
    blocked = browser.post(
        "/login", data={"username": "pallas", "password": "correct horse battery"}
    )
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.text


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(
    redis_client: redis.Redis, session: Session
) -> None:
    owner = authed_client("editor")
    created = owner.post("/api/tokens", json={"name": "import script"}).json()
    token = created["token"]
    assert token.startswith("pal_") and created["prefix"] == token[:12]
    stored = session.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert token not in stored and all(len(h) == 64 for h in stored)
    api = TestClient(create_app(), headers={"authorization": f"Bearer {token}"})
    assert api.get("/api/me").json()["role"] == "editor"
    assert api.post("/api/documents/1/approve").status_code == 404  # allowed, no CSRF for tokens
    assert owner.delete(f"/api/tokens/{created['id']}").status_code == 204
    assert api.get("/api/me").status_code == 401


def test_documents_of_a_collection_are_for_its_members(
    redis_client: redis.Redis, session: Session
) -> None:
    from service.documents.models import Collection

    archive = Collection(name="Stadtarchiv")
    session.add(archive)
    session.commit()
    secret = make_document(
        session, ["Geheimes Protokoll"], ["Secret minutes"], title="Protokoll", source_lang="de"
    )
    secret.collection_id = archive.id
    session.commit()
    public = make_document(session, ["Öffentlich"], None, title="Aushang", source_lang="de")
    outsider, member = authed_client("editor"), authed_client("viewer", collections=(archive.id,))
    assert outsider.get(f"/api/documents/{secret.id}").status_code == 404
    assert outsider.get(f"/documents/{secret.id}").status_code == 404
    assert [d["title"] for d in outsider.get("/api/documents").json()] == ["Aushang"]
    assert outsider.get("/api/search", params={"q": "Protokoll"}).json() == []
    assert outsider.post(f"/api/documents/{secret.id}/approve").status_code == 404
    assert member.get(f"/api/documents/{secret.id}").status_code == 200
    assert member.get("/api/search", params={"q": "Protokoll"}).json()
    assert authed_client("admin").get(f"/api/documents/{secret.id}").status_code == 200
    assert outsider.get(f"/api/documents/{public.id}").status_code == 200


def test_createuser_makes_the_first_admin(redis_client: redis.Redis) -> None:
    palimpsest = str(PROJECT_ROOT / ".venv" / "bin" / "palimpsest")
    made = subprocess.run(
        [
            palimpsest,
            "--log-level",
            "warning",
            "createuser",
            "root",
            "--admin",
            "--generate-password",
            "--if-no-admin",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    password = re.search(r"password: (\S+)", made.stdout)
    assert "created admin 'root'" in made.stdout and password
    again = subprocess.run(
        [
            palimpsest,
            "--log-level",
            "warning",
            "createuser",
            "other",
            "--admin",
            "--generate-password",
            "--if-no-admin",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert again.stdout == ""  # an admin exists: nothing to do
    browser = TestClient(create_app(), headers={"origin": "http://testserver"})
    response = browser.post(
        "/login", data={"username": "root", "password": password.group(1)}, follow_redirects=False
    )
    assert response.status_code == 303


def test_a_collection_made_by_an_editor_stays_theirs_and_is_closed_to_others(
    redis_client: redis.Redis,
) -> None:
    from tests.support.helpers import encode, text_image

    author, other = authed_client("editor"), authed_client("editor")
    png = encode(text_image([["Hello"]]), "PNG")
    response = author.post(
        "/api/documents",
        data={"source_lang": "en", "target_lang": "fr", "collection": "Letters"},
        files=[("files", ("p.png", png, "image/png"))],
    )
    assert response.status_code == 202
    document_id = response.json()["id"]
    assert author.get(f"/api/documents/{document_id}").status_code == 200
    assert other.get(f"/api/documents/{document_id}").status_code == 404
    # The other editor is not told that "Letters" exists: they get a "Letters" of their own.
    theirs = other.post(
        "/api/documents",
        data={"source_lang": "en", "target_lang": "fr", "collection": "Letters"},
        files=[("files", ("p.png", png, "image/png"))],
    )
    assert theirs.status_code == 202
    collection_id = author.get("/api/me").json()["collection_ids"][0]
    assert other.get("/api/me").json()["collection_ids"] != [collection_id]
    assert other.get(f"/api/collections/{collection_id}/glossary").status_code == 404
    assert author.get(f"/api/collections/{collection_id}/glossary").status_code == 200
    assert other.get(f"/api/collections/{collection_id}/export?format=txt").status_code == 404


def test_a_login_must_come_from_our_own_login_page(redis_client: redis.Redis) -> None:
    authed_client("editor", username="athena")
    form = {"username": "athena", "password": "correct horse battery"}
    for origin in ("https://evil.example", "null", None):
        browser = TestClient(create_app())
        headers = {"origin": origin} if origin else {}
        forged = browser.post("/login", data=form, headers=headers, follow_redirects=False)
        assert forged.status_code == 403, origin
        assert "did not come from Palimpsest&#39;s login page" in forged.text
        assert "set-cookie" not in forged.headers
        assert browser.get("/api/me").status_code == 401
    browser = TestClient(create_app())
    by_referer = browser.post(
        "/login", data=form, headers={"referer": "http://testserver/login"}, follow_redirects=False
    )
    assert by_referer.status_code == 303 and browser.get("/api/me").json()["username"] == "athena"


def test_tokens_survive_a_password_change_unless_revoked_with_it(
    redis_client: redis.Redis,
) -> None:
    owner = authed_client("editor", username="mnemosyne")
    scripts = [owner.post("/api/tokens", json={"name": n}).json()["token"] for n in "ab"]

    def works(token: str) -> bool:
        api = TestClient(create_app(), headers={"authorization": f"Bearer {token}"})
        return api.get("/api/me").status_code == 200

    changed = owner.post(
        "/account/password", data={"current": "correct horse battery", "new": "a new passphrase"}
    )
    assert changed.status_code == 200 and "2 API tokens still work" in changed.text
    assert all(works(t) for t in scripts)  # scripts keep running: by design, and said so
    again = owner.post(
        "/account/password",
        data={"current": "a new passphrase", "new": "a third passphrase", "revoke_tokens": "true"},
    )
    assert again.status_code == 200 and "revoked 2 API tokens" in again.text
    assert not any(works(t) for t in scripts)

    later = [owner.post("/api/tokens", json={"name": n}).json()["token"] for n in "cd"]
    assert owner.delete("/api/tokens").json() == {"revoked": 2}
    assert not any(works(t) for t in later)
    page = owner.post("/account/tokens/revoke-all", follow_redirects=False)
    assert page.status_code == 303
