"""hardening: account lock-out, uploaders, collection names per member, step attempts,
imports decoded and IIIF manifests fetched by workers

Revision ID: f3a9c2d17b54
Revises: f3a9c1d27b54
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f3a9c2d17b54"
down_revision: str | None = "f3a9c1d27b54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("documents", sa.Column("created_by", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_documents_created_by_users"),
        "documents",
        "users",
        ["created_by"],
        ["id"],
        ondelete="SET NULL",
    )
    # Collection names are unique per user's view, not globally (see Collection.name).
    op.drop_constraint(op.f("uq_collections_name"), "collections", type_="unique")
    op.create_index(op.f("ix_collections_name"), "collections", ["name"], unique=False)
    op.add_column("source_files", sa.Column("layout_sha256", sa.String(length=64), nullable=True))
    op.add_column(
        "source_files", sa.Column("layout_filename", sa.String(length=500), nullable=True)
    )
    op.add_column("source_files", sa.Column("source_url", sa.Text(), nullable=True))
    op.create_table(
        "iiif_manifests",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("title_from_manifest", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_iiif_manifests_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_iiif_manifests")),
    )
    op.create_table(
        "step_attempts",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("args", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("resent", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_step_attempts")),
    )


def downgrade() -> None:
    op.drop_table("step_attempts")
    op.drop_table("iiif_manifests")
    op.drop_column("source_files", "source_url")
    op.drop_column("source_files", "layout_filename")
    op.drop_column("source_files", "layout_sha256")
    op.drop_index(op.f("ix_collections_name"), table_name="collections")
    op.create_unique_constraint(op.f("uq_collections_name"), "collections", ["name"])
    op.drop_constraint(op.f("fk_documents_created_by_users"), "documents", type_="foreignkey")
    op.drop_column("documents", "created_by")
    op.drop_column("users", "locked_until")
