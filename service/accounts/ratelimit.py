"""Password-guessing limits in Redis: per account and address, and per account alone.

- 5 failures of one account from one address in 15 minutes block that pair until the
  window ends (a typo-prone user elsewhere is not affected).
- 20 failures of one account from any addresses in an hour lock the account for an hour:
  even the right password is refused, so guessing from many addresses gets nowhere. An
  administrator can lift the lock at once (the users page, or `POST /api/users/{id}/unlock`).

Keys hold a SHA-256 of the normalised username and of the address, never the text sent,
so a megabyte of username costs the same few bytes as a real one; the view refuses
over-long usernames before it gets here. Unknown usernames are counted and locked like
real ones, so the answers tell nobody which accounts exist.
"""

from __future__ import annotations

import hashlib

import redis

from service.config import get_settings

WINDOW_S = 15 * 60
MAX_FAILURES = 5
ACCOUNT_WINDOW_S = 60 * 60
ACCOUNT_MAX_FAILURES = 20
LOCK_S = 60 * 60
PREFIX = "palimpsest:login"


def _client() -> redis.Redis:
    return redis.Redis.from_url(str(get_settings().redis_url), socket_timeout=2)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def account_key(username: str) -> str:
    """The account's part of every key: a hash of the name as logins compare it."""
    return _digest(username.strip().lower())


def _pair_key(username: str, address: str) -> str:
    return f"{PREFIX}:{account_key(username)}:{_digest(address)}"


def _count_key(username: str) -> str:
    return f"{PREFIX}:{account_key(username)}"


def _lock_key(username: str) -> str:
    return f"{PREFIX}-lock:{account_key(username)}"


def blocked_for(username: str, address: str) -> int:
    """Seconds until this username may be tried again from this address (0: now)."""
    client, key = _client(), _pair_key(username, address)
    failures = int(client.get(key) or 0)
    return max(0, int(client.ttl(key))) if failures >= MAX_FAILURES else 0


def locked_for(username: str) -> int:
    """Seconds the account stays locked after too many failures from anywhere (0: not)."""
    return max(0, int(_client().ttl(_lock_key(username))))


def record_failure(username: str, address: str) -> bool:
    """Count a failed attempt (windows start at the first failure); True when this one
    locked the account."""
    client = _client()
    pair, count = _pair_key(username, address), _count_key(username)
    pipe = client.pipeline()
    pipe.incr(pair)
    pipe.expire(pair, WINDOW_S, nx=True)
    pipe.incr(count)
    pipe.expire(count, ACCOUNT_WINDOW_S, nx=True)
    total = int(pipe.execute()[2])
    if total < ACCOUNT_MAX_FAILURES:
        return False
    return bool(client.set(_lock_key(username), total, ex=LOCK_S, nx=True))


def clear(username: str, address: str) -> None:
    """Forget this address's failures after a successful login (the account's count stays:
    a right password now and then must not reset a guesser's budget)."""
    _client().delete(_pair_key(username, address))


def unlock(username: str) -> None:
    """Lift the account's lock and forget its failures from every address."""
    client = _client()
    keys = [_lock_key(username), _count_key(username)]
    keys += list(client.scan_iter(match=f"{_count_key(username)}:*", count=500))
    client.delete(*keys)
