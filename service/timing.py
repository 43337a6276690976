"""`Server-Timing` on every response: how long the server worked on it, for browsers'
developer tools, proxies' logs and the benchmarks.

The time runs from the request reaching the application (before authentication) to its
response headers. Pages are rendered whole before their headers go out, so for a page it
is the whole server time; what follows is only sending the body.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServerTimingMiddleware:
    """Adds `Server-Timing: app;dur=<milliseconds>` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={took:.1f}".encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, timed)


def server_ms(headers: Mapping[str, str]) -> float | None:
    """The `app` duration of a response's Server-Timing header, in milliseconds."""
    for metric in headers.get("server-timing", "").split(","):
        name, _, params = metric.strip().partition(";")
        if name == "app" and params.startswith("dur="):
            return float(params[4:])
    return None
