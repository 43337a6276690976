"""segment word boxes stored as json text

`lines` and `word_spans` are only ever read whole by Python. As jsonb, Postgres turned every
number back into text on each read (about 10 µs a row for `word_spans`, 30 µs for `lines`:
a third of the time of the query behind a 500-segment review page); as json it returns the
stored text.

Revision ID: b7c41e0d93a2
Revises: 6a0faed2cf84
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b7c41e0d93a2"
down_revision: str | None = "6a0faed2cf84"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _retype("json")


def downgrade() -> None:
    _retype("jsonb")


def _retype(to: str) -> None:
    json, jsonb = postgresql.JSON(astext_type=sa.Text()), postgresql.JSONB(astext_type=sa.Text())
    new, old = (json, jsonb) if to == "json" else (jsonb, json)
    for column in ("lines", "word_spans"):
        op.alter_column(
            "segments", column, type_=new, existing_type=old, postgresql_using=f"{column}::{to}"
        )
