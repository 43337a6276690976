"""Which translation a segment shows, and whether it is stale.

A segment shows its latest translation, except those made only to compare models. A
translation is stale when the segment's normalised text changed after it was made: the
rule is written twice, for Python (`translation_stale`) and for Postgres
(`sql_translation_stale`), side by side here and tested against each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from service.documents.models import Page, Segment
from service.text import source_hash
from service.translation.models import RunPurpose, Translation, TranslationRun, TranslationStatus


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


@dataclass(frozen=True)
class AlignedSegment:
    """A segment, its page number, and its current translation if any."""

    segment: Segment
    page_number: int
    translation: Translation | None

    @cached_property
    def stale(self) -> bool:
        """True when the source changed after the translation was made."""
        t = self.translation
        return t is not None and translation_stale(t.status, t.source_hash, self.segment.normalized)


def translation_stale(status: TranslationStatus, made_from: str, normalized: str) -> bool:
    """True when a translation made from the source hash `made_from` no longer matches the
    segment's normalised text (a failed translation has no text to be stale)."""
    return status is not TranslationStatus.FAILED and made_from != source_hash(normalized)


def sql_translation_stale(
    status: SQLColumnExpression[TranslationStatus],
    made_from: SQLColumnExpression[str],
    normalized: SQLColumnExpression[str],
) -> ColumnElement[bool]:
    """`translation_stale` computed by Postgres (`source_hash` is the hex SHA-256 of the
    text's UTF-8 bytes), for queries that read many rows at once."""
    digest = func.encode(func.sha256(func.convert_to(normalized, "UTF8")), "hex")
    return (status != TranslationStatus.FAILED) & (made_from != digest)


def aligned_segments(
    session: Session, document_id: int, page_number: int | None = None
) -> list[AlignedSegment]:
    """Segments in reading order with their most recent translation (two queries, no N+1)."""
    query = (
        select(Segment, Page.number)
        .join(Page, Page.id == Segment.page_id)
        .where(Segment.document_id == document_id)
        .order_by(Page.number, Segment.position)
    )
    if page_number is not None:
        query = query.where(Page.number == page_number)
    rows = session.execute(query).all()
    latest = _latest_translations(session, [seg.id for seg, _ in rows])
    return [AlignedSegment(seg, number, latest.get(seg.id)) for seg, number in rows]


def _latest_translations(session: Session, segment_ids: list[int]) -> dict[int, Translation]:
    if not segment_ids:
        return {}
    return _latest(session, select(Translation).where(Translation.segment_id.in_(segment_ids)))


def _latest(session: Session, query: Select[Any]) -> dict[int, Translation]:
    """Each segment's shown translation: its latest, comparisons aside (one query)."""
    return {t.segment_id: t for t in session.scalars(latest_shown(query))}
