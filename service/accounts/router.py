"""JSON API of accounts: who am I, API tokens, users (admins)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from service.accounts import service
from service.accounts.models import Role
from service.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/api", tags=["accounts"])


class Me(BaseModel):
    """The user the request acts for."""

    username: str
    display_name: str
    role: Role
    collection_ids: list[int]


class TokenCreate(BaseModel):
    """A name to recognise the token by."""

    name: str = Field(default="API token", max_length=200)


class TokenRead(BaseModel):
    """A token without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    """A new token: `token` is shown this once."""

    token: str


class UserCreate(BaseModel):
    """A new account."""

    username: str = Field(max_length=100)
    password: str = Field(min_length=10, max_length=1000)
    role: Role = Role.EDITOR
    display_name: str | None = Field(default=None, max_length=200)


class UserRead(BaseModel):
    """An account."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    is_active: bool
    locked_until: datetime | None = Field(
        description="set after too many failed logins; POST /api/users/{id}/unlock lifts it"
    )


@router.get("/me", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    """Who this request acts for."""
    return Me(
        username=principal.username,
        display_name=principal.display_name,
        role=principal.role,
        collection_ids=sorted(principal.collection_ids),
    )


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(session: SessionDep, principal: PrincipalDep) -> list[TokenRead]:
    """Your API tokens."""
    return [TokenRead.model_validate(t) for t in service.tokens(session, principal.user_id)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(session: SessionDep, principal: PrincipalDep, body: TokenCreate) -> TokenCreated:
    """A new API token; its secret is in this answer only."""
    row, token = service.create_token(session, principal.user_id, body.name)
    session.commit()
    return TokenCreated(**TokenRead.model_validate(row).model_dump(), token=token)


class TokensRevoked(BaseModel):
    """How many tokens a "revoke all" ended."""

    revoked: int


@router.delete("/tokens", response_model=TokensRevoked)
def revoke_all_tokens(session: SessionDep, principal: PrincipalDep) -> TokensRevoked:
    """Revoke every one of your API tokens (say, after your password was exposed)."""
    revoked = service.revoke_all_tokens(session, principal.user_id)
    session.commit()
    return TokensRevoked(revoked=revoked)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(session: SessionDep, principal: PrincipalDep, token_id: int) -> Response:
    """Revoke a token (yours; admins: anyone's)."""
    service.revoke_token(session, principal.user_id, token_id, any_user=principal.is_admin)
    session.commit()
    return Response(status_code=204)


@router.get("/users", response_model=list[UserRead])
def list_users(session: SessionDep) -> list[UserRead]:
    """Every account (admins only)."""
    return [UserRead.model_validate(u) for u in service.users(session)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(session: SessionDep, body: UserCreate) -> UserRead:
    """Create an account (admins only)."""
    user = service.create_user(session, body.username, body.password, body.role, body.display_name)
    session.commit()
    return UserRead.model_validate(user)


@router.post("/users/{user_id}/unlock", status_code=204)
def unlock_user(session: SessionDep, user_id: int) -> Response:
    """Lift an account's lock-out after too many failed logins (admins only)."""
    service.unlock(session, service.get_user_or_raise(session, user_id))
    session.commit()
    return Response(status_code=204)
