"""The Jinja2 environment: autoescaping everywhere, since OCR and model text are untrusted."""

from __future__ import annotations

from functools import lru_cache

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.config import PROJECT_ROOT
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
    return Jinja2Templates(env=env)
