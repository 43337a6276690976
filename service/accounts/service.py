"""Every query and mutation of accounts: users, passwords, sessions, tokens, access."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row, Select, delete, func, select, update
from sqlalchemy.orm import Session

from service.accounts import ratelimit
from service.accounts.models import ApiToken, LoginSession, Membership, Role, User
from service.errors import InvalidInput, NotFound, PalimpsestError

SESSION_DAYS = 14
MAX_USERNAME = 100
MAX_PASSWORD = 1000
TOKEN_PREFIX = "pal_"  # noqa: S105 - a visible prefix, not a secret
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing the same.
_DUMMY_HASH = _hasher.hash("not a password")


class InvalidCredentials(PalimpsestError):
    """Wrong username or password (never says which)."""


@dataclass(frozen=True)
class Principal:
    """Who is making a request, and what they may see."""

    user_id: int
    username: str
    display_name: str
    role: Role
    collection_ids: frozenset[int]
    via_token: bool = False

    @property
    def is_admin(self) -> bool:
        """Admins see every collection and manage accounts."""
        return self.role is Role.ADMIN

    @property
    def can_edit(self) -> bool:
        """Editors and admins change things; viewers only read."""
        return self.role in (Role.ADMIN, Role.EDITOR)

    def may_see(self, collection_id: int | None) -> bool:
        """Documents outside collections are open to all users; others to members."""
        return self.is_admin or collection_id is None or collection_id in self.collection_ids


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _normal(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > MAX_USERNAME or any(c.isspace() for c in name):
        raise InvalidInput("A username is 1–100 characters without spaces.")
    return name


def check_password_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < 10:
        raise InvalidInput("A password needs at least 10 characters.")


def create_user(
    session: Session, username: str, password: str, role: Role, display_name: str | None = None
) -> User:
    """Create a user with an argon2-hashed password."""
    name = _normal(username)
    check_password_strength(password)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise InvalidInput(f"The username {name!r} is taken.")
    user = User(
        username=name,
        display_name=(display_name or name).strip()[:200],
        password_hash=_hasher.hash(password),
        role=role,
        is_active=True,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Change a password and end the user's other sessions."""
    check_password_strength(password)
    user.password_hash = _hasher.hash(password)
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    session.flush()


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials, or InvalidCredentials."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials("Wrong username or password.") from None
    if user is None or not user.is_active:
        raise InvalidCredentials("Wrong username or password.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = datetime.now(UTC)
    return user


def lock(session: Session, username: str, seconds: int) -> bool:
    """Lock an account for some seconds after too many failed logins; False when no
    account has that name."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        return False
    user.locked_until = datetime.now(UTC) + timedelta(seconds=seconds)
    session.flush()
    return True


def locked_for(session: Session, username: str) -> int:
    """Seconds an account stays locked (0: not locked, or no such account)."""
    until = session.scalar(
        select(User.locked_until).where(User.username == username.strip().lower())
    )
    return max(0, int((until - datetime.now(UTC)).total_seconds())) if until else 0


def unlock(session: Session, user: User) -> None:
    """Lift an account's lock (an administrator's decision) and forget its failed logins."""
    user.locked_until = None
    session.flush()
    ratelimit.unlock(user.username)


def start_session(session: Session, user: User) -> str:
    """A new login session; returns the token for the cookie (stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=_digest(token),
            user_id=user.id,
            expires_at=datetime.now(UTC) + timedelta(days=SESSION_DAYS),
        )
    )
    session.flush()
    return token


def end_session(session: Session, token: str) -> None:
    """Log out: the cookie's session is deleted."""
    session.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))


def principal_for_session(session: Session, token: str) -> Principal | None:
    """The active user of a live session cookie, or None: one query, as every request
    with a cookie asks it."""
    query = _principals().join(LoginSession, LoginSession.user_id == User.id)
    return _principal(
        session.execute(
            query.where(
                LoginSession.token_hash == _digest(token), LoginSession.expires_at > func.now()
            )
        ).first()
    )


def principal_for_token(session: Session, token: str) -> Principal | None:
    """The active user of an unrevoked API token, or None; the token's last use is noted."""
    digest = _digest(token)
    query = _principals().join(ApiToken, ApiToken.user_id == User.id)
    found = _principal(
        session.execute(
            query.where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
        ).first()
    )
    if found is None:
        return None
    session.execute(
        update(ApiToken).where(ApiToken.token_hash == digest).values(last_used_at=func.now())
    )
    return replace(found, via_token=True)


def _principals() -> Select[int, str, str, Role, list[int] | None]:
    """Active users with the collections they belong to, as Principal's fields."""
    collections = (
        select(func.array_agg(Membership.collection_id))
        .where(Membership.user_id == User.id)
        .scalar_subquery()
    )
    return select(User.id, User.username, User.display_name, User.role, collections).where(
        User.is_active
    )


def _principal(row: Row[int, str, str, Role, list[int] | None] | None) -> Principal | None:
    if row is None:
        return None
    user_id, username, display_name, role, collections = row
    return Principal(user_id, username, display_name, role, frozenset(collections or ()))


def create_token(session: Session, user_id: int, name: str) -> tuple[ApiToken, str]:
    """A new API token; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user_id,
        name=(name.strip() or "API token")[:200],
        token_hash=_digest(token),
        prefix=token[:12],
    )
    session.add(row)
    session.flush()
    return row, token


def revoke_token(session: Session, user_id: int, token_id: int, any_user: bool = False) -> None:
    """Revoke a token of the user (admins: of anyone)."""
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != user_id and not any_user):
        raise NotFound(f"Token {token_id} does not exist.")
    row.revoked_at = row.revoked_at or datetime.now(UTC)
    session.flush()


def revoke_all_tokens(session: Session, user_id: int) -> int:
    """Revoke every live token of a user; how many there were."""
    live = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    ).all()
    now = datetime.now(UTC)
    for row in live:
        row.revoked_at = now
    session.flush()
    return len(live)


def live_token_count(session: Session, user_id: int) -> int:
    """How many unrevoked tokens a user has."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        )
        or 0
    )


def tokens(session: Session, user_id: int) -> Sequence[ApiToken]:
    """A user's tokens, newest first."""
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    ).all()


def users(session: Session) -> Sequence[User]:
    """Every user by name."""
    return session.scalars(select(User).order_by(User.username)).all()


def get_user_or_raise(session: Session, user_id: int) -> User:
    """A user or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


def set_memberships(session: Session, user_id: int, collection_ids: Sequence[int]) -> None:
    """Replace the collections a user belongs to."""
    session.execute(delete(Membership).where(Membership.user_id == user_id))
    session.add_all(Membership(user_id=user_id, collection_id=c) for c in set(collection_ids))
    session.flush()


def has_admin(session: Session) -> bool:
    """Whether any active admin exists (for first-run instructions)."""
    found = session.scalar(
        select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True)).limit(1)
    )
    return found is not None


def memberships(session: Session) -> dict[int, set[int]]:
    """Collection ids of every user."""
    found: dict[int, set[int]] = {}
    for row in session.scalars(select(Membership)):
        found.setdefault(row.user_id, set()).add(row.collection_id)
    return found
