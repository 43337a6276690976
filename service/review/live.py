"""What an open document page needs to follow the work as it happens, without reloading.

The page sends back the token it was rendered with; a cheap query (ids, versions and
timestamps, no text) tells whether anything it shows changed. Only then are the rows
rendered again, and the page swaps those whose key differs, leaving an open editor alone.

- The *shape* of a page: whether it is read, its image, its segments (ids in order), the
  page count. A new shape (a page read while the document page is open) replaces the
  whole view.
- A row's *key*: its segment's version, its shown translation (id, version, status, time
  of change), its annotations, and whether a run is translating it right now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from service.documents.models import PROSE_KINDS, Document, Page, Segment, SegmentKind
from service.jobs.models import Job, JobStage, JobStatus
from service.review.models import Annotation
from service.review.service import ReviewSegment
from service.translation.models import (
    ItemStatus,
    RunItem,
    RunKind,
    RunPurpose,
    RunStatus,
    Translation,
    TranslationRun,
    TranslationStatus,
)
from service.translation.shown import latest_shown

_SHOWN_COLUMNS: tuple[Any, ...] = (
    Translation.segment_id,
    Translation.id,
    Translation.version,
    Translation.status,
    # As text: a timestamp read as a datetime costs 30 µs a row to turn into a number.
    cast(Translation.updated_at, String).label("changed"),
)
ACTIVE = (RunStatus.PENDING, RunStatus.RUNNING)
# A translation a run would replace; edited and approved ones are always kept.
REPLACEABLE = (None, TranslationStatus.MACHINE, TranslationStatus.FAILED)


@dataclass(frozen=True, slots=True)
class RowState:
    """What decides a row's look, read without its text."""

    segment_id: int
    kind: SegmentKind
    version: int
    translation: str  # id.version.status.time of the shown translation, or ""
    status: TranslationStatus | None
    annotations: str  # how many and the newest id

    def key(self, busy: bool) -> str:
        """A short digest that changes whenever the row would look different."""
        raw = f"{self.version}|{self.translation}|{self.annotations}|{int(busy)}"
        return hashlib.blake2s(raw.encode(), digest_size=6).hexdigest()


@dataclass(frozen=True, slots=True)
class PageState:
    """A page's shape and row keys, and the token the browser compares."""

    shape: str
    keys: dict[int, str]
    busy: frozenset[int]

    @property
    def token(self) -> str:
        """`shape.rows`: the page sends it back on every poll."""
        rows = hashlib.blake2s(
            "".join(f"{i}:{k};" for i, k in self.keys.items()).encode(), digest_size=8
        ).hexdigest()
        return f"{self.shape}.{rows}"


def row_states(session: Session, page_id: int) -> list[RowState]:
    """Every segment of a page in reading order, with what decides its row's look."""
    shown = latest_shown(
        select(*_SHOWN_COLUMNS)
        .join(Segment, Segment.id == Translation.segment_id)
        .where(Segment.page_id == page_id)
    ).subquery()
    notes = (
        select(
            Annotation.segment_id,
            func.count().label("n"),
            func.max(Annotation.id).label("newest"),
        )
        .join(Segment, Segment.id == Annotation.segment_id)
        .where(Segment.page_id == page_id)
        .group_by(Annotation.segment_id)
        .subquery()
    )
    query = (
        select(
            Segment.id,
            Segment.kind,
            Segment.version,
            shown.c.id,
            shown.c.version,
            shown.c.status,
            shown.c.changed,
            notes.c.n,
            notes.c.newest,
        )
        .outerjoin(shown, shown.c.segment_id == Segment.id)
        .outerjoin(notes, notes.c.segment_id == Segment.id)
        .where(Segment.page_id == page_id)
        .order_by(Segment.position)
    )
    return [_row_state(row) for row in session.execute(query)]


def row_state(segment: ReviewSegment, notes: Sequence[Annotation]) -> RowState:
    """The same state, from a row the review page has read whole (no second query)."""
    t = segment.translation
    shown = "" if t is None else f"{t.id}.{t.version}.{t.status}.{t.changed}"
    newest = max((a.id for a in notes), default=0)
    status = None if t is None else t.status
    return RowState(
        segment.id, segment.kind, segment.version, shown, status, f"{len(notes)}.{newest}"
    )


def _row_state(row: Sequence[Any]) -> RowState:
    seg_id, kind, version, t_id, t_version, t_status, t_time, n, newest = row
    shown = "" if t_id is None else f"{t_id}.{t_version}.{t_status}.{t_time}"
    return RowState(seg_id, kind, version, shown, t_status, f"{n or 0}.{newest or 0}")


def translating(
    session: Session,
    document: Document,
    page_number: int,
    rows: Sequence[RowState],
    jobs: Iterable[Job],
    runs: Iterable[TranslationRun],
) -> frozenset[int]:
    """The page's segments a translation is on its way for: the document's own translation
    still to come, or a re-translation running or queued over them (comparisons aside)."""
    candidates = {
        r.segment_id: r for r in rows if r.kind in PROSE_KINDS and r.status in REPLACEABLE
    }
    if not candidates:
        return frozenset()
    found: set[int] = set()
    if document.translate and _in_progress(document) and _translation_ahead(jobs):
        found |= {i for i, r in candidates.items() if r.status is None}
    active = [
        r
        for r in runs
        if r.status in ACTIVE
        and r.kind is RunKind.TRANSLATE
        and r.purpose is not RunPurpose.COMPARE
    ]
    for run in active:
        if run.status is RunStatus.PENDING and _covers(run, page_number):
            found |= set(candidates) & set(run.segment_ids or candidates)
    running = [r.id for r in active if r.status is RunStatus.RUNNING]
    if running:
        found |= set(
            session.scalars(
                select(RunItem.segment_id).where(
                    RunItem.run_id.in_(running),
                    RunItem.status == ItemStatus.PENDING,
                    RunItem.segment_id.in_(list(candidates)),
                )
            )
        )
    return frozenset(found)


def _in_progress(document: Document) -> bool:
    return document.status.value in ("pending", "processing")


def _translation_ahead(jobs: Iterable[Job]) -> bool:
    return any(
        j.stage is JobStage.TRANSLATE and j.status in (JobStatus.PENDING, JobStatus.RUNNING)
        for j in jobs
    )


def _covers(run: TranslationRun, page_number: int) -> bool:
    return (run.page_from is None or run.page_from <= page_number) and (
        run.page_to is None or page_number <= run.page_to
    )


def page_shape(page: Page | None, page_count: int, rows: Sequence[RowState]) -> str:
    """A digest of what the page view is built from, apart from its rows' contents."""
    if page is None:
        raw = f"none|{page_count}"
    else:
        raw = "|".join(
            str(v)
            for v in (
                page.id,
                page_count,
                page.ocr_status.value,
                page.image_sha256,
                page.ocr_image_sha256,
                page.width,
                page.height,
                page.ocr_error,
                page.ocr_note,
                ",".join(str(r.segment_id) for r in rows),
            )
        )
    return hashlib.blake2s(raw.encode(), digest_size=8).hexdigest()


def page_state(
    session: Session,
    document: Document,
    page: Page | None,
    page_count: int,
    progress: tuple[Iterable[Job], Iterable[TranslationRun]],
    rows: list[RowState] | None = None,
) -> PageState:
    """The state of the page an open document page shows (None: no page read in yet),
    from its `rows` when the caller has them, else read."""
    jobs, runs = progress
    if rows is None:
        rows = row_states(session, page.id) if page is not None else []
    busy = (
        translating(session, document, page.number, rows, jobs, runs)
        if page is not None
        else frozenset()
    )
    keys = {r.segment_id: r.key(r.segment_id in busy) for r in rows}
    return PageState(page_shape(page, page_count, rows), keys, busy)


def is_final(document: Document, runs: Iterable[TranslationRun]) -> bool:
    """Nothing is left to happen by itself: the document is finished and no run is busy."""
    finished = document.status.value in ("done", "partial", "failed")
    return finished and not any(r.status in ACTIVE for r in runs)
