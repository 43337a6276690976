"""translation runs record their prompting unit (segment or sentence)

Revision ID: c3f1a9d2e8b4
Revises: b7c41e0d93a2
Create Date: 2026-12-04 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3f1a9d2e8b4"
down_revision: str | None = "b7c41e0d93a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("translation_runs", sa.Column("unit", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("translation_runs", "unit")
