"""The Jinja2 environment: autoescaping everywhere, since OCR and model text are untrusted."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.config import PROJECT_ROOT, get_settings
from service.review.render import runs_html


@lru_cache
def templates() -> Jinja2Templates:
    """Templates from the project's templates/ folder."""
    env = Environment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code and change only with a restart: no stat() per render.
        auto_reload=False,
    )
    env.filters["runs_html"] = runs_html
    env.globals["waiting_note"] = waiting_note
    return Jinja2Templates(env=env)


class Waiting(Protocol):
    """A stage or run held up by its model server."""

    waiting: str | None
    waiting_since: datetime | None


def waiting_note(item: Waiting) -> str:
    """What a waiting stage or run says: why, for how long, and when it gives up."""
    since = item.waiting_since or datetime.now(UTC)
    waited = (datetime.now(UTC) - since).total_seconds()
    left = get_settings().model_wait_limit_s - waited
    reason = (item.waiting or "").rstrip(".")
    return (
        f"Waiting for the model for {_minutes(waited)}: {reason}. Fails with this reason "
        f"in {_minutes(max(left, 0))} unless it answers; Cancel stops it now."
    )


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 0):.0f} s"
    return f"{seconds / 60:.0f} min"
