"""segment word spans for the review page

Revision ID: a069e641ce26
Revises: c9f3ec650648
Create Date: 2026-11-29 20:25:39.974584
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a069e641ce26"
down_revision: str | None = "c9f3ec650648"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows keep NULL: the review page computes their spans from `lines` instead,
    # and the next change to a segment's text or boxes fills them in.
    op.add_column(
        "segments", sa.Column("word_spans", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("segments", "word_spans")
