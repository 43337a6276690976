"""Login rate limiting in Redis: failed attempts per username and address, in a window."""

from __future__ import annotations

import redis

from service.config import get_settings

WINDOW_S = 15 * 60
MAX_FAILURES = 5
KEY = "palimpsest:login-failures:{name}:{address}"


def _client() -> redis.Redis:
    return redis.Redis.from_url(str(get_settings().redis_url), socket_timeout=2)


def blocked_for(username: str, address: str) -> int:
    """Seconds until this username may be tried again from this address (0: now)."""
    client = _client()
    key = KEY.format(name=username.strip().lower(), address=address)
    failures = int(client.get(key) or 0)
    return max(0, int(client.ttl(key))) if failures >= MAX_FAILURES else 0


def record_failure(username: str, address: str) -> None:
    """Count a failed attempt; the window starts at the first failure."""
    client = _client()
    key = KEY.format(name=username.strip().lower(), address=address)
    pipe = client.pipeline()
    pipe.incr(key)
    pipe.expire(key, WINDOW_S, nx=True)
    pipe.execute()


def clear(username: str, address: str) -> None:
    """Forget failures after a successful login."""
    _client().delete(KEY.format(name=username.strip().lower(), address=address))
