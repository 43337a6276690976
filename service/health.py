"""`/health`: whether the database and the task queue answer (used by compose healthchecks)."""

from __future__ import annotations

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.config import get_settings
from service.db import get_engine
from service.translation import backends

router = APIRouter(tags=["health"])


def _database() -> str:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _redis() -> str:
    try:
        client = redis.Redis.from_url(
            str(get_settings().redis_url), socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
    except redis.RedisError as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _model_host() -> str:
    models = backends.ollama_models(get_settings())
    if models is None:
        return "unreachable (the embedded model translates)"
    return f"ok ({len(models)} models)"


@router.get("/health")
def health() -> JSONResponse:
    """200 when the database and Redis answer, 503 otherwise; the model host is reported."""
    checks = {"database": _database(), "redis": _redis()}
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if healthy else "unavailable"} | checks | {"ollama": _model_host()}
    return JSONResponse(body, status_code=200 if healthy else 503)
