"""hardening: account lock-out, document uploader, collection names per member, step attempts

Revision ID: f3a9c2d17b54
Revises: b7c41e0d93a2
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3a9c2d17b54"
down_revision: str | None = "b7c41e0d93a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "locked_until")
