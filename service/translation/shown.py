"""Which translation a segment shows: the latest, except those made only to compare models."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from service.translation.models import RunPurpose, Translation, TranslationRun


def shown() -> ColumnElement[bool]:
    """Filter for translations a segment may show (comparison runs stay in their own view)."""
    compare_runs = select(TranslationRun.id).where(TranslationRun.purpose == RunPurpose.COMPARE)
    return Translation.run_id.is_(None) | Translation.run_id.not_in(compare_runs)
