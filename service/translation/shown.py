"""Which translation a segment shows: the latest, except those made only to compare models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.dialects.postgresql import distinct_on

from service.translation.models import RunPurpose, Translation, TranslationRun


def comparison_runs() -> Select[Any]:
    """The ids of runs made only to compare models."""
    return select(TranslationRun.id).where(TranslationRun.purpose == RunPurpose.COMPARE)


def shown() -> ColumnElement[bool]:
    """Filter for translations a segment may show (comparison runs stay in their own view)."""
    return Translation.run_id.is_(None) | Translation.run_id.not_in(comparison_runs())


def latest_shown(query: Select[Any]) -> Select[Any]:
    """Narrow a query over translations to each segment's shown one: its most recently
    changed, comparisons aside (one row per segment)."""
    return (
        query.where(shown())
        .order_by(Translation.segment_id, Translation.updated_at.desc(), Translation.id.desc())
        .ext(distinct_on(Translation.segment_id))
    )
