"""Translations by the bundled tiny model are drafts, and the document page says so.

The wording (which model, what to install instead) is in one place:
templates/includes/draft_notice.html.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.config import BUNDLED_MODEL_FILE
from service.translation.models import Translation, TranslationStatus
from service.translation.shown import latest_shown

BUNDLED_BACKEND = "embedded"
# What the bundled model is, in words, for the notice.
BUNDLED_MODEL_NAME = "Gemma 3 270M"


@dataclass(frozen=True, slots=True)
class Draft:
    """How many of a document's shown translations the bundled model made unreviewed."""

    model_file: str
    model_name: str
    segments: int


def bundled_drafts(session: Session, document_id: int) -> Draft | None:
    """The document's unreviewed translations by the bundled model, or None if it has none."""
    columns: list[Any] = [
        Translation.segment_id,
        Translation.backend,
        Translation.model,
        Translation.status,
    ]
    shown = latest_shown(select(*columns).where(Translation.document_id == document_id)).subquery()
    count = session.scalar(
        select(func.count()).where(
            shown.c.backend == BUNDLED_BACKEND,
            shown.c.model == BUNDLED_MODEL_FILE,
            shown.c.status.in_((TranslationStatus.MACHINE, TranslationStatus.NEEDS_CHECK)),
        )
    )
    if not count:
        return None
    return Draft(BUNDLED_MODEL_FILE, BUNDLED_MODEL_NAME, int(count))
