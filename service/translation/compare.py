"""Model comparison: the same segments through several runs, side by side, with figures per run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from service.documents.models import Page, Segment
from service.errors import InvalidInput
from service.review.models import Edit, EditField
from service.translation.doubts import Doubt, standing
from service.translation.models import (
    ItemStatus,
    RunItem,
    Translation,
    TranslationRun,
    TranslationStatus,
)

UNTRANSLATED_FLAGS = {"untranslated", "wrong_language"}


@dataclass(frozen=True)
class RunStats:
    """One run's figures: speed, time, length, and how often the model needed help. Only
    what the run produced counts; translations it reused are counted apart."""

    run: TranslationRun
    segments: int
    translated: int
    reused: int
    failed: int
    untranslated: int
    needs_check: int
    fallbacks: int
    from_memory: int
    tokens_in: int
    tokens_out: int
    tokens_per_s: float | None
    wall_s: float | None
    model_s: float
    length_ratio: float | None


@dataclass(frozen=True)
class Cell:
    """A run's outcome for one segment: what the model produced, or where it came from."""

    run_id: int
    item: RunItem | None
    translation: Translation | None
    text: str | None = None  # the model's own words (before any reviewer's edit)
    reused: str | None = None  # why this run did not translate it itself

    @property
    def fresh(self) -> bool:
        """Translated by this run itself."""
        return self.translation is not None and self.translation.run_id == self.run_id

    @property
    def doubts(self) -> list[Doubt]:
        """The checks' doubts about this run's translation that stand."""
        t = self.translation
        return standing(t.status, t.flags) if t is not None else []


@dataclass(frozen=True)
class Row:
    """One segment across the compared runs."""

    segment: Segment
    page: int
    cells: list[Cell]


@dataclass(frozen=True)
class Comparison:
    """Figures per run and the segments side by side."""

    document_id: int
    stats: list[RunStats]
    rows: list[Row]


def compare(session: Session, document_id: int, run_ids: Sequence[int]) -> Comparison:
    """Compare runs of one document."""
    found = session.scalars(select(TranslationRun).where(TranslationRun.id.in_(run_ids))).all()
    by_id = {r.id: r for r in found}
    chosen = [by_id[i] for i in dict.fromkeys(run_ids) if i in by_id]
    if not chosen or any(r.document_id != document_id for r in chosen):
        raise InvalidInput(f"Choose runs of document {document_id} to compare.")
    items = session.scalars(select(RunItem).where(RunItem.run_id.in_([r.id for r in chosen]))).all()
    segments = _segments(session, {i.segment_id for i in items})
    translations = _translations(session, chosen, {i.segment_id for i in items})
    originals = _model_texts(session, [t.id for t in translations.values()])
    item_of = {(i.run_id, i.segment_id): i for i in items}
    rows = [
        Row(seg, page, [_cell(run, seg.id, item_of, translations, originals) for run in chosen])
        for seg, page in segments
    ]
    return Comparison(document_id, [_stats(run, rows, i) for i, run in enumerate(chosen)], rows)


def _segments(session: Session, ids: set[int]) -> list[tuple[Segment, int]]:
    rows = session.execute(
        select(Segment, Page.number)
        .join(Page, Page.id == Segment.page_id)
        .where(Segment.id.in_(ids))
        .order_by(Page.number, Segment.position)
    )
    return [(seg, number) for seg, number in rows]


def _translations(
    session: Session, chosen: list[TranslationRun], segment_ids: set[int]
) -> dict[tuple[str | None, str | None, int], Translation]:
    models = {(r.backend, r.model) for r in chosen if r.backend}
    if not models or not segment_ids:
        return {}
    rows = session.scalars(
        select(Translation).where(
            Translation.segment_id.in_(segment_ids),
            tuple_(Translation.backend, Translation.model).in_(models),
        )
    )
    return {(t.backend, t.model, t.segment_id): t for t in rows}


def _model_texts(session: Session, translation_ids: list[int]) -> dict[int, str]:
    """What the model wrote, for translations a reviewer has edited since: the text before
    the first edit of each."""
    if not translation_ids:
        return {}
    rows = session.execute(
        select(Edit.translation_id, Edit.before)
        .where(Edit.translation_id.in_(translation_ids), Edit.field == EditField.TRANSLATION)
        .order_by(Edit.translation_id, Edit.id)
        .ext(distinct_on(Edit.translation_id))
    )
    return {t_id: before for t_id, before in rows if t_id is not None}


def _cell(
    run: TranslationRun,
    segment_id: int,
    item_of: dict[tuple[int, int], RunItem],
    translations: dict[tuple[str | None, str | None, int], Translation],
    originals: dict[int, str],
) -> Cell:
    item = item_of.get((run.id, segment_id))
    t = translations.get((run.backend, run.model, segment_id)) if item else None
    if t is None or t.status is TranslationStatus.FAILED:
        return Cell(run.id, item, t)
    if t.run_id == run.id:
        return Cell(run.id, item, t, t.text)
    source = f"run #{t.run_id}" if t.run_id else "an earlier translation"
    if t.id in originals:
        note = f"reused from {source}; shown as the model wrote it, before a reviewer's edit"
        return Cell(run.id, item, t, originals[t.id], note)
    if t.backend == run.backend and t.status is TranslationStatus.EDITED:
        return Cell(run.id, item, t, None, f"written by a reviewer ({source})")
    return Cell(run.id, item, t, t.text, f"this model's own translation, reused from {source}")


def _stats(run: TranslationRun, rows: list[Row], column: int) -> RunStats:
    cells = [row.cells[column] for row in rows if row.cells[column].item is not None]
    made = [c.translation for c in cells if c.fresh and c.translation is not None]
    good = [t for t in made if t.status is not TranslationStatus.FAILED]
    fresh = [t for t in good if t.memory_id is None and t.generation_ms]
    sources = {row.segment.id: len(row.segment.normalized) for row in rows}
    source_chars = sum(sources.get(t.segment_id, 0) for t in good)
    tokens_out = sum(t.tokens_out or 0 for t in fresh)
    generation_s = sum(t.generation_ms or 0 for t in fresh) / 1000
    wall = None
    if run.started_at and run.finished_at and made:
        wall = (run.finished_at - run.started_at).total_seconds()
    return RunStats(
        run=run,
        segments=len(cells),
        translated=len(good),
        reused=sum(1 for c in cells if c.reused is not None),
        failed=sum(1 for c in cells if c.item is not None and c.item.status is ItemStatus.FAILED),
        untranslated=sum(1 for t in made if _untranslated(t)),
        needs_check=sum(1 for t in made if t.status is TranslationStatus.NEEDS_CHECK),
        fallbacks=sum(1 for t in made if t.fallbacks),
        from_memory=sum(1 for t in good if t.memory_id is not None),
        tokens_in=sum(t.tokens_in or 0 for t in fresh),
        tokens_out=tokens_out,
        tokens_per_s=tokens_out / generation_s if generation_s else None,
        wall_s=wall,
        model_s=sum(t.duration_ms or 0 for t in fresh) / 1000,
        length_ratio=sum(len(t.text) for t in good) / source_chars if source_chars else None,
    )


def _untranslated(translation: Translation) -> bool:
    return any(flag.get("kind") in UNTRANSLATED_FLAGS for flag in translation.flags)
