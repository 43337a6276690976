"""The FastAPI application: routers, error handlers, templates and static files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import DataError
from sqlalchemy.exc import OperationalError as DatabaseError

from service import health, heap, metrics
from service.accounts import router as accounts_api
from service.accounts import views as accounts_views
from service.accounts.middleware import AuthMiddleware
from service.config import PROJECT_ROOT, get_settings
from service.documents import router as documents_api
from service.documents import views as documents_views
from service.errors import (
    BlobMissing,
    EditConflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NoUsableFile,
    PalimpsestError,
    ServiceUnavailable,
    StorageMisconfigured,
    StorageUnavailable,
    UnreadableFile,
)
from service.exports import router as exports_api
from service.headers import SecurityHeadersMiddleware
from service.imports import router as imports_api
from service.limits import BodyLimitMiddleware
from service.review import router as review_api
from service.review import views as review_views
from service.templating import templates
from service.timing import ServerTimingMiddleware
from service.transcription import router as transcription_api
from service.transcription import views as transcription_views
from service.translation import router as translation_api
from service.translation import views as translation_views

log = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[PalimpsestError], int]] = [
    (NotFound, 404),
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (EditConflict, 409),
    (InvalidInput, 422),
    (UnreadableFile, 422),  # a file or manifest the user gave cannot be read
    (ServiceUnavailable, 503),
    (BlobMissing, 404),
    (StorageUnavailable, 503),
    (StorageMisconfigured, 503),
]


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    heap.settle()  # all is imported and built: keep it out of the collector's walks
    yield


def create_app() -> FastAPI:
    """Build the web application."""
    app = FastAPI(
        lifespan=_lifespan,
        title="Palimpsest",
        summary="OCR and translation of historical documents, reviewed side by side.",
        version="0.1.0",
        docs_url=None,  # served below from our own copy of Swagger UI, not from a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    # The last middleware added runs first: time the whole answer, headers on every answer
    # (refusals too), refuse oversized bodies, then authenticate.
    app.add_middleware(AuthMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=get_settings().max_request_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(ServerTimingMiddleware)
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "service" / "static"), name="static")
    app.add_api_route("/api/docs", api_docs, include_in_schema=False)
    app.include_router(health.router)
    app.include_router(accounts_views.router)
    app.include_router(accounts_api.router)
    app.include_router(metrics.router)
    app.include_router(documents_api.router)
    app.include_router(review_api.router)
    app.include_router(exports_api.router)
    app.include_router(imports_api.router)
    app.include_router(documents_views.router)
    app.include_router(review_views.router)
    app.include_router(translation_api.router)
    app.include_router(transcription_api.router)
    app.include_router(transcription_views.router)
    app.include_router(translation_views.router)
    app.add_exception_handler(PalimpsestError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DatabaseError, _database_down)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(BrokerError, _broker_down)
    return app


def api_docs(request: Request) -> Response:
    """The interactive API documentation, with every asset served by the app itself."""
    return templates().TemplateResponse(request, "api_docs.html", {})


def _status(exc: PalimpsestError) -> int:
    return next((code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls)), 500)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _error_response(
    request: Request, status: int, code: str, message: str, extra: dict[str, object] | None = None
) -> Response:
    if _wants_html(request):
        return templates().TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )
    return JSONResponse({"error": code, "message": message} | (extra or {}), status_code=status)


async def _domain_error(request: Request, exc: PalimpsestError) -> Response:
    extra: dict[str, object] = {}
    if isinstance(exc, NoUsableFile):
        extra["rejected"] = [{"filename": name, "error": why} for name, why in exc.rejected]
    if isinstance(exc, EditConflict):
        extra |= {"current_text": exc.current_text, "current_version": exc.current_version}
    return _error_response(request, _status(exc), exc.code.value, exc.message, extra)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    # FastAPI's own handler echoes the input, and a lone surrogate ("\ud800" in a JSON
    # string) cannot be encoded as UTF-8: it crashed. Say where and what, never the input.
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(error) for error in exc.errors()]
    message = "; ".join(f"{'.'.join(p['loc'][1:] or p['loc'])}: {p['msg']}" for p in problems)
    return _error_response(
        request,
        422,
        ErrorCode.INVALID_INPUT.value,
        message or "The request is not valid.",
        {"detail": problems},
    )


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    """Where and what is wrong in a request, without the value sent."""
    return {
        "loc": [_printable(str(part)) for part in error.get("loc", ())],
        "msg": _printable(str(error.get("msg", ""))),
        "type": str(error.get("type", "")),
    }


def _printable(text: str) -> str:
    """The text as UTF-8 can carry it (a lone surrogate becomes "?")."""
    return text.encode("utf-8", "replace").decode("utf-8")


async def _database_down(request: Request, exc: Exception) -> Response:
    log.error("database unavailable: %s", exc)
    return _error_response(
        request,
        503,
        ErrorCode.UNAVAILABLE.value,
        "The database is not reachable; try again in a moment.",
    )


async def _out_of_range(request: Request, exc: Exception) -> Response:
    # The database refused a value no column can hold (an id past 2^31, say): bad input.
    log.info("value refused by the database: %s", str(exc).splitlines()[0])
    return _error_response(
        request,
        422,
        ErrorCode.INVALID_INPUT.value,
        "A value in the request is out of range (too large a number, or too long a text).",
    )


async def _broker_down(request: Request, exc: Exception) -> Response:
    log.error("task queue unavailable: %s", exc)
    return _error_response(
        request,
        503,
        ErrorCode.UNAVAILABLE.value,
        "The task queue (Redis) is not reachable; try again in a moment.",
    )


app = create_app()
