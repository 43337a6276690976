"""What a reviewer, the dashboard and an export are told of the checks' doubts.

A machine translation keeps the flags its checks stored (`Translation.flags`). The ones
that put it in doubt (`checks.is_doubt`) stand until a reviewer edits or approves it:
editing and approving clear them, and a translation edited or approved before that rule
existed shows none either. Flags that only say how an answer was obtained (`same_request`)
are provenance, not doubts, and are not shown as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.documents.models import Page, Segment
from service.translation.checks import is_doubt
from service.translation.models import Translation, TranslationStatus
from service.translation.shown import latest_shown

# A short name for each kind of doubt, before its reason ("invented number: 1783 is not in
# the source"); a kind not listed is named by its value with spaces.
LABELS = {
    "omission": "omission",
    "length_ratio": "length",
    "invented_number": "invented number",
    "dropped_number": "dropped number",
    "dropped_name": "dropped name",
    "prompt_echo": "prompt echo",
    "refusal": "refusal",
    "commentary": "commentary",
    "repetition": "repetition",
    "glossary": "glossary",
    "partly_untranslated": "partly untranslated",
}
# Statuses whose flags no longer stand: a reviewer took responsibility, or there is no text.
SETTLED = frozenset(
    {TranslationStatus.EDITED, TranslationStatus.APPROVED, TranslationStatus.FAILED}
)


@dataclass(frozen=True, slots=True)
class Doubt:
    """One standing doubt about a translation: its kind and the check's plain reason."""

    kind: str
    message: str

    @property
    def label(self) -> str:
        """The kind in words ("invented number")."""
        return LABELS.get(self.kind, self.kind.replace("_", " "))

    @property
    def reason(self) -> str:
        """The kind and the reason in one line, for exports that have one cell or note."""
        return f"{self.label}: {self.message}"

    def flag(self) -> dict[str, str]:
        """The doubt as exports give it: `{kind, message}`."""
        return {"kind": self.kind, "message": self.message}


def standing(
    status: TranslationStatus | str | None, flags: Iterable[dict[str, Any]]
) -> list[Doubt]:
    """The doubts that still stand on a translation of this status, worst first."""
    if status is None or TranslationStatus(status) in SETTLED:
        return []
    return [Doubt(str(f.get("kind", "")), str(f.get("message", ""))) for f in flags if is_doubt(f)]


def reasons(doubts: Sequence[Doubt]) -> str:
    """Every doubt's kind and reason in one line, separated by semicolons."""
    return "; ".join(d.reason for d in doubts)


def mark(doubts: Sequence[Doubt]) -> str:
    """What follows a doubted translation in text: "[needs check: kind: reason; …]"."""
    return f"[needs check: {reasons(doubts)}]"


def _needs_check(where: Any) -> Select[Any]:
    """Each segment's shown translation, narrowed to those that need checking. Only the
    segments with a doubted translation are read (a partial index finds them), and of
    those the one each shows: another model's newer translation may have replaced it."""
    doubted = select(Translation.segment_id).where(
        where, Translation.status == TranslationStatus.NEEDS_CHECK
    )
    columns: list[Any] = [Translation.segment_id, Translation.document_id, Translation.status]
    shown = latest_shown(select(*columns).where(Translation.segment_id.in_(doubted))).subquery()
    return select(shown.c.document_id, shown.c.segment_id).where(
        shown.c.status == TranslationStatus.NEEDS_CHECK
    )


def counts(session: Session, document_ids: Sequence[int]) -> dict[int, int]:
    """How many segments of each document show a translation that needs checking."""
    if not document_ids:
        return {}
    flagged = _needs_check(Translation.document_id.in_(document_ids)).subquery()
    rows = session.execute(
        select(flagged.c.document_id, func.count()).group_by(flagged.c.document_id)
    )
    return {document_id: int(n) for document_id, n in rows}


def by_page(session: Session, document_id: int) -> dict[int, int]:
    """Page number → how many of its segments show a translation that needs checking."""
    flagged = _needs_check(Translation.document_id == document_id).subquery()
    rows = session.execute(
        select(Page.number, func.count())
        .select_from(flagged)
        .join(Segment, Segment.id == flagged.c.segment_id)
        .join(Page, Page.id == Segment.page_id)
        .group_by(Page.number)
        .order_by(Page.number)
    )
    return {number: int(n) for number, n in rows}
