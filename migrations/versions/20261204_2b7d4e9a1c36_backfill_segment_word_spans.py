"""backfill segments.word_spans and make it NOT NULL

Rows written before word spans existed (or before the model computed them on every
insert) had NULL, so the review page and the exports each carried a fallback that
decoded the word boxes. Every row gets its spans here, computed as
service/documents/spans.py::word_spans did when this revision was written (copied, so
the migration keeps working whatever that module becomes).

Revision ID: 2b7d4e9a1c36
Revises: 8e35da737583
Create Date: 2026-12-04 16:50:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "2b7d4e9a1c36"
down_revision: str | None = "8e35da737583"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
JSON_TYPE = postgresql.JSON(astext_type=sa.Text())
segments = sa.table(
    "segments",
    sa.column("id", sa.Integer),
    sa.column("text", sa.Text),
    sa.column("lines", postgresql.JSON),
    sa.column("word_spans", postgresql.JSON),
)


def _word_spans(text: str, lines: list[dict[str, Any]]) -> list[list[float]]:
    spans: list[list[float]] = []
    offset = 0
    for i, line in enumerate(lines):
        if i:
            offset += 1
        for j, word in enumerate(line.get("words", [])):
            if j:
                offset += 1
            token = str(word.get("text", ""))
            if text[offset : offset + len(token)] != token:
                return []
            conf = word.get("conf")
            spans.append(
                [
                    offset,
                    offset + len(token),
                    float(conf) if isinstance(conf, int | float) else 100.0,
                ]
            )
            offset += len(token)
    return spans


def upgrade() -> None:
    conn = op.get_bind()
    while True:
        rows = conn.execute(
            sa.select(segments.c.id, segments.c.text, segments.c.lines)
            .where(segments.c.word_spans.is_(None))
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            spans = _word_spans(row.text or "", row.lines or [])
            conn.execute(segments.update().where(segments.c.id == row.id).values(word_spans=spans))
    op.alter_column(
        "segments",
        "word_spans",
        existing_type=JSON_TYPE,
        nullable=False,
    )


def downgrade() -> None:
    op.alter_column(
        "segments",
        "word_spans",
        existing_type=JSON_TYPE,
        nullable=True,
    )
