"""The OCR post-correction layer: proposals beside the OCR text, shown as a word diff.

Corrections live in their own table; the diplomatic text and its reading form are never
changed by them. A reviewer decides what to take over.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from service.documents.models import PROSE_KINDS, Page, Segment, SegmentKind
from service.text import source_hash
from service.translation.models import Correction

_TOKENS = re.compile(r"\s+|[^\s]+")
# Text read by OCR: what typed regions hold has no OCR errors to correct.
OCR_PROSE = tuple(k for k in PROSE_KINDS if k is not SegmentKind.MANUAL)


class DiffOp(StrEnum):
    """A piece of a word diff: kept, removed from the OCR text, or added by the correction."""

    SAME = "="
    REMOVED = "-"
    ADDED = "+"


@dataclass(frozen=True)
class CorrectedSegment:
    """A segment's OCR reading text, its proposed correction and the diff between them."""

    segment: Segment
    page: int
    correction: Correction | None
    diff: list[tuple[DiffOp, str]]

    @property
    def changed(self) -> bool:
        """True when the proposal differs from the OCR text."""
        return any(op is not DiffOp.SAME for op, _ in self.diff)

    @property
    def stale(self) -> bool:
        """True when the OCR text changed after the proposal was made."""
        c = self.correction
        return c is not None and c.source_hash != source_hash(self.segment.normalized)


def word_diff(before: str, after: str) -> list[tuple[DiffOp, str]]:
    """A word-level diff, whitespace kept, as (op, text) pieces in order."""
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    pieces: list[tuple[DiffOp, str]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append((DiffOp.SAME, "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append((DiffOp.REMOVED, "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append((DiffOp.ADDED, "".join(b[j1:j2])))
    return pieces


def for_document(session: Session, document_id: int) -> list[CorrectedSegment]:
    """Every prose segment with its most recent correction proposal, in reading order."""
    rows = session.execute(
        select(Segment, Page.number)
        .join(Page, Page.id == Segment.page_id)
        .where(Segment.document_id == document_id, Segment.kind.in_(OCR_PROSE))
        .order_by(Page.number, Segment.position)
    ).all()
    latest = {
        c.segment_id: c
        for c in session.scalars(
            select(Correction)
            .where(Correction.document_id == document_id)
            .order_by(Correction.segment_id, Correction.updated_at.desc(), Correction.id.desc())
            .ext(distinct_on(Correction.segment_id))
        )
    }
    return [_view(seg, page, latest.get(seg.id)) for seg, page in rows]


def _view(segment: Segment, page: int, correction: Correction | None) -> CorrectedSegment:
    if correction is None or correction.failed:
        return CorrectedSegment(segment, page, correction, [(DiffOp.SAME, segment.normalized)])
    return CorrectedSegment(
        segment, page, correction, word_diff(segment.normalized, correction.text)
    )
