"""The stale rule: Postgres and Python agree on which translations are stale."""

from __future__ import annotations

import itertools

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents.models import Segment
from service.text import source_hash
from service.translation.models import Translation, TranslationStatus
from service.translation.shown import aligned_segments, sql_translation_stale, translation_stale
from tests.support.helpers import make_document

# Texts whose bytes differ from their characters (long s, combining marks, emoji, none).
TEXTS = ["Plaignez, Meſſieurs", "aͤ und oͤ", "🜚 Gold", "", "plain ascii"]


def test_the_sql_rule_and_its_python_twin_agree(session: Session) -> None:
    cases = list(itertools.product(TEXTS, (True, False), list(TranslationStatus)))
    document = make_document(session, [text or "x" for text, _, _ in cases], ["t"] * len(cases))
    rows = session.scalars(
        select(Segment).where(Segment.document_id == document.id).order_by(Segment.position)
    ).all()
    for segment, (text, unchanged, status) in zip(rows, cases, strict=True):
        segment.normalized = text
        translation = session.scalars(
            select(Translation).where(Translation.segment_id == segment.id)
        ).one()
        translation.status = status
        translation.source_hash = source_hash(text if unchanged else text + " (before)")
    session.commit()
    stale = sql_translation_stale(Translation.status, Translation.source_hash, Segment.normalized)
    query = select(Segment.id, stale).join(Translation, Translation.segment_id == Segment.id)
    in_sql = dict(session.execute(query).tuples().all())
    in_python = {a.segment.id: a.stale for a in aligned_segments(session, document.id)}
    assert in_sql == in_python
    # Both say what a reader expects: changed text makes a translation stale, unless it failed.
    expected = [
        not unchanged and status is not TranslationStatus.FAILED for _, unchanged, status in cases
    ]
    assert [in_python[s.id] for s in rows] == expected
    assert translation_stale(TranslationStatus.MACHINE, source_hash("a"), "b")
