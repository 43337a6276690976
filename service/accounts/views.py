"""HTML of accounts: login and logout, one's own password and API tokens, user admin."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts import ratelimit, service
from service.accounts.middleware import SESSION_COOKIE, same_origin
from service.accounts.models import Role
from service.accounts.service import InvalidCredentials, Principal
from service.deps import PrincipalDep, SessionDep
from service.documents import service as documents
from service.errors import InvalidInput
from service.templating import templates

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a login to another site."""
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    """The login page."""
    return templates().TemplateResponse(
        request, "accounts/login.html", {"next": _safe_next(next), "error": None, "username": ""}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password (rate-limited), start a session, and go where the user was going."""
    if not same_origin(request.headers):
        # Login CSRF: a foreign page must not log the browser into an account of its choice.
        message = "This login did not come from Palimpsest's login page; open it and try again."
        return _login_error(request, next, message, 403, username)
    if len(username) > service.MAX_USERNAME or len(password) > service.MAX_PASSWORD:
        # Refused before anything is stored or hashed.
        message = "A username has at most 100 characters, a password at most 1000."
        return _login_error(request, next, message, 422, "")
    address = _address(request)
    refusal = _guess_limit(session, username, address)
    if refusal is not None:
        return _login_error(request, next, refusal, 429, username)
    try:
        user = service.authenticate(session, username, password)
    except InvalidCredentials as exc:
        _count_failure(session, username, address)
        return _login_error(request, next, exc.message, 401, username)
    ratelimit.clear(username, address)
    token = service.start_session(session, user)
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    return _with_session(response, request, token)


def _address(request: Request) -> str:
    """The client's address: the peer, or what a configured proxy says it is (`serve`
    trusts X-Forwarded-For only from PALIMPSEST_TRUSTED_PROXIES)."""
    return request.client.host if request.client else "unknown"


def _guess_limit(session: SessionDep, username: str, address: str) -> str | None:
    """Why this account may not be tried now from this address, or None."""
    locked = max(ratelimit.locked_for(username), service.locked_for(session, username))
    if locked:
        return (
            "This account is locked after too many failed logins. Try again in "
            f"{locked // 60 + 1} minutes, or ask an administrator to unlock it."
        )
    wait = ratelimit.blocked_for(username, address)
    if wait:
        return f"Too many failed attempts. Try again in {wait // 60 + 1} minutes."
    return None


def _count_failure(session: SessionDep, username: str, address: str) -> None:
    """Count a wrong password; lock the account when it was one too many."""
    if ratelimit.record_failure(username, address) and service.lock(
        session, username, ratelimit.LOCK_S
    ):
        log.warning("account %r locked after too many failed logins", username)
        session.commit()


def _with_session(response: Response, request: Request, token: str) -> Response:
    """Set the session cookie: HttpOnly, SameSite=Lax, and Secure when served over TLS."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=service.SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def _login_error(
    request: Request, next_path: str, message: str, status: int, username: str
) -> Response:
    """The login page again with the reason, the name kept (the password never is)."""
    return templates().TemplateResponse(
        request,
        "accounts/login.html",
        {"next": _safe_next(next_path), "error": message, "username": username[:200]},
        status_code=status,
    )


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """End this browser's session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(session, token)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    """One's password and API tokens."""
    return _account(request, session, principal, {})


def _account(
    request: Request,
    session: SessionDep,
    principal: Principal,
    extra: dict[str, object],
    status: int = 200,
) -> Response:
    context = {
        "tokens": service.tokens(session, principal.user_id),
        "new_token": None,
        "message": None,
        "error": None,
    } | extra
    return templates().TemplateResponse(
        request, "accounts/account.html", context, status_code=status
    )


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    current: Annotated[str, Form()],
    new: Annotated[str, Form()],
    revoke_tokens: Annotated[bool, Form()] = False,
) -> Response:
    """Change one's password (other sessions end); the current password is checked under
    the same limits as a login, so a stolen session cannot guess it."""
    address = _address(request)
    refusal = _guess_limit(session, principal.username, address)
    if refusal is not None:
        return _account(request, session, principal, {"error": refusal}, 429)
    try:
        user = service.authenticate(session, principal.username, current)
        service.set_password(session, user, new)
    except InvalidCredentials:
        _count_failure(session, principal.username, address)
        return _account(
            request, session, principal, {"error": "The current password is wrong."}, 422
        )
    except InvalidInput as exc:
        return _account(request, session, principal, {"error": exc.message}, 422)
    message = "Password changed; your other sessions have ended. " + _tokens_after_change(
        session, principal.user_id, revoke_tokens
    )
    token = service.start_session(session, user)
    session.commit()
    response = _account(request, session, principal, {"message": message})
    return _with_session(response, request, token)


def _tokens_after_change(session: SessionDep, user_id: int, revoke: bool) -> str:
    """API tokens are credentials of their own (scripts keep running after a routine
    change); the form offers to end them too."""
    if revoke:
        return f"It also revoked {_tokens(service.revoke_all_tokens(session, user_id))}."
    live = service.live_token_count(session, user_id)
    return f"Your {_tokens(live)} still work; revoke them below if needed." if live else ""


def _tokens(count: int) -> str:
    return f"{count} API token" + ("" if count == 1 else "s")


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    name: Annotated[str, Form()] = "",
) -> Response:
    """A new API token, shown once."""
    _, token = service.create_token(session, principal.user_id, name)
    session.commit()
    return _account(request, session, principal, {"new_token": token})


@router.post("/account/tokens/revoke-all")
def revoke_all_tokens(session: SessionDep, principal: PrincipalDep) -> Response:
    """Revoke every one of one's tokens."""
    service.revoke_all_tokens(session, principal.user_id)
    session.commit()
    return RedirectResponse("/account", status_code=303)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(session: SessionDep, principal: PrincipalDep, token_id: int) -> Response:
    """Revoke one of one's tokens."""
    service.revoke_token(session, principal.user_id, token_id)
    session.commit()
    return RedirectResponse("/account", status_code=303)


@router.post("/admin/users/{user_id}/unlock")
def unlock_user(session: SessionDep, user_id: int) -> Response:
    """Lift an account's lock-out (admins only: enforced by the middleware)."""
    service.unlock(session, service.get_user_or_raise(session, user_id))
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, session: SessionDep) -> Response:
    """Users, their roles and collections (admins only: enforced by the middleware)."""
    return _users(request, session, None)


def _users(request: Request, session: SessionDep, error: str | None, status: int = 200) -> Response:
    people = service.users(session)
    return templates().TemplateResponse(
        request,
        "accounts/users.html",
        {
            "users": people,
            "roles": list(Role),
            "error": error,
            "collections": documents.list_collections(session),
            "memberships": service.memberships(session),
            "now": datetime.now(UTC),
        },
        status_code=status,
    )


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[Role, Form()] = Role.EDITOR,
    display_name: Annotated[str, Form()] = "",
) -> Response:
    """Create an account."""
    try:
        service.create_user(session, username, password, role, display_name or None)
    except InvalidInput as exc:
        return _users(request, session, exc.message, 422)
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}")
def update_user(
    session: SessionDep,
    principal: PrincipalDep,
    user_id: int,
    role: Annotated[Role, Form()],
    active: Annotated[bool, Form()] = False,
    collections: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """Change a user's role, activity and collections (not one's own role)."""
    user = service.get_user_or_raise(session, user_id)
    if user.id != principal.user_id:
        user.role, user.is_active = role, active
    service.set_memberships(session, user_id, collections or [])
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)
