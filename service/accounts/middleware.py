"""Every request needs a login, except the login page, /health and static assets.

Browsers log in with a session cookie (HttpOnly, SameSite=Lax, Secure behind TLS); state-
changing requests with that cookie must come from our own origin (CSRF protection by the
Origin/Referer header, which browsers always send on POST). API clients send
`Authorization: Bearer <token>`. Viewers may only read; account management is for admins.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, urlsplit

from sqlalchemy.exc import OperationalError as DatabaseError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service.accounts import service
from service.accounts.access import acting_as
from service.accounts.service import Principal
from service.db import get_sessionmaker

log = logging.getLogger(__name__)

SESSION_COOKIE = "palimpsest_session"
PUBLIC_PATHS = ("/login", "/health")
PUBLIC_PREFIXES = ("/static/",)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# What a viewer may still change: their own session, password and tokens.
SELF_SERVICE = ("/logout", "/account/", "/api/tokens")
ADMIN_PREFIXES = ("/admin", "/api/users")


def is_public(path: str) -> bool:
    """Paths served without a login."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def resolve(cookie: str | None, bearer: str | None) -> Principal | None:
    """The principal of a session cookie or API token (one short transaction)."""
    with get_sessionmaker()() as session:
        principal = None
        if bearer:
            principal = service.principal_for_token(session, bearer)
        elif cookie:
            principal = service.principal_for_session(session, cookie)
        session.commit()
        return principal


def same_origin(headers: Headers) -> bool:
    """Whether a state-changing browser request comes from our own pages."""
    source = headers.get("origin") or headers.get("referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc == headers.get("host", "")


class AuthMiddleware:
    """Authenticates, authorises by role, checks the origin, and binds the principal."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        bearer = _bearer(request.headers.get("authorization", ""))
        try:
            principal = await run_in_threadpool(
                resolve, request.cookies.get(SESSION_COOKIE), bearer
            )
        except DatabaseError as exc:
            log.error("database unavailable: %s", exc)
            await _send_unavailable(send, _wants_html(request))
            return
        refusal = _refusal(request, principal)
        if refusal is not None:
            await _send(send, *refusal)
            return
        scope.setdefault("state", {})["principal"] = principal
        with acting_as(principal):
            await self.app(scope, receive, send)


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _refusal(request: Request, principal: Principal | None) -> tuple[int, str, str] | None:
    path, method = request.url.path, request.method
    if principal is None:
        if _wants_html(request) and method in SAFE_METHODS:
            return 303, "redirect", f"/login?next={quote(str(request.url.path))}"
        return 401, "unauthorized", "Log in, or send an API token as 'Authorization: Bearer …'."
    if method not in SAFE_METHODS and not principal.via_token and not same_origin(request.headers):
        return 403, "csrf", "This request did not come from Palimpsest's own pages."
    if path.startswith(ADMIN_PREFIXES) and not principal.is_admin:
        return 403, "forbidden", "Only administrators manage accounts."
    if method not in SAFE_METHODS and not principal.can_edit and not path.startswith(SELF_SERVICE):
        return 403, "forbidden", "Your account may read but not change anything."
    return None


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", "text/html"
    )


UNAVAILABLE = "The database is not reachable; try again in a moment."


async def _send_unavailable(send: Send, html: bool) -> None:
    """503 while the database is away; the pool reconnects by itself once it is back."""
    if html:
        body = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Unavailable</title>"
            f"<h1>503: unavailable</h1><p>{UNAVAILABLE}</p></html>"
        ).encode()
        kind = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"error": "service_unavailable", "message": UNAVAILABLE}).encode()
        kind = b"application/json"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    headers.append((b"retry-after", b"5"))
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send(send: Send, status: int, code: str, message: str) -> None:
    if status == 303:
        headers = [(b"location", message.encode()), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = json.dumps({"error": code, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="palimpsest"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
