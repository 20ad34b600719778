"""Schema version 1: the first release (items, verdicts, schema_version).

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("phash", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("listing_id", sa.String(256)),
        sa.Column("source", sa.String(128)),
        sa.Column("url", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("embedding", sa.LargeBinary()),
        sa.UniqueConstraint("sha256", "model_version", name="uq_items_sha256_model"),
    )
    op.create_index("ix_items_listing_id", "items", ["listing_id"])
    op.create_index("ix_items_source", "items", ["source"])
    op.create_index("ix_items_created_at", "items", ["created_at"])
    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(32), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("inspector", sa.String(128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_verdicts_item_id", "verdicts", ["item_id"])
