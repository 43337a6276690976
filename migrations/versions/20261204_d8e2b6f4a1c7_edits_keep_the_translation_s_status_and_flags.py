"""edits keep the translation's status and flags; flagged machine rows need checking

A reviewer's edit or approval clears a translation's flags; the edit keeps the status and
flags it had, so an undo brings them back. Machine translations stored before the
`needs_check` status existed, whose flags put them in doubt (an odd length, a missed
glossary term: the only doubts checked then), become `needs_check`, so the review desk's
filter and the counts find them; a partial index finds them per document.

Revision ID: d8e2b6f4a1c7
Revises: c3f1a9d2e8b4
Create Date: 2026-12-04 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d8e2b6f4a1c7"
down_revision: str | None = "c3f1a9d2e8b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The kinds of doubt that translations could carry before this revision.
FLAGGED = """
UPDATE translations SET status = 'needs_check'
WHERE status = 'machine'
  AND (flags @> '[{"kind": "length_ratio"}]' OR flags @> '[{"kind": "glossary"}]')
"""


def upgrade() -> None:
    op.add_column(
        "edits",
        sa.Column("translation_before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.execute(FLAGGED)
    op.create_index(
        "ix_translations_needs_check",
        "translations",
        ["document_id"],
        unique=False,
        postgresql_where=sa.text("status = 'needs_check'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_translations_needs_check",
        table_name="translations",
        postgresql_where=sa.text("status = 'needs_check'"),
    )
    op.execute("UPDATE translations SET status = 'machine' WHERE status = 'needs_check'")
    op.drop_column("edits", "translation_before")
