"""Schema version 7: seller risk stored (`seller_risk`), per-day trend counts of past days
(`trend_days`), and indexes for large databases.

`trend_days` starts empty and fills on the first GET /v1/trends. `seller_risk` starts empty (no row: not computed yet); the server fills it on start
(`sellers.stored.backfill`), because the formula lives above the storage layer. Indexes: sellers
by risk (with and without a source), items by day/source/priority (trends, surge alerts),
listings by category and last sighting (category surges), alerts newest first, verdicts by day.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seller_risk",
        sa.Column("seller_ref", sa.Integer(), sa.ForeignKey("sellers.id"), primary_key=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("seller_id", sa.String(256), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("base_risk", sa.Float(), nullable=False),
        sa.Column("listing_count", sa.Integer(), nullable=False),
        sa.Column("high_listings", sa.Integer(), nullable=False),
        sa.Column("confirmed_counterfeit", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("linked", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_seller_risk_rank",
        "seller_risk",
        [sa.text("risk DESC"), "source", "seller_id", "seller_ref"],
    )
    op.create_index(
        "ix_seller_risk_source_rank",
        "seller_risk",
        ["source", sa.text("risk DESC"), "seller_id", "seller_ref"],
    )
    op.create_table(
        "trend_days",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("grp", sa.String(8), primary_key=True),
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("high", sa.Integer(), nullable=False),
        sa.Column("counterfeit", sa.Integer(), nullable=False),
    )
    op.create_index("ix_items_day_source_priority", "items", ["created_at", "source", "priority"])
    op.create_index("ix_items_source_priority_day", "items", ["source", "priority", "created_at"])
    op.create_index("ix_listings_category_last_seen", "listings", ["category", "last_seen"])
    op.create_index("ix_alerts_newest", "alerts", ["created_at", "id"])
    op.create_index("ix_verdicts_created_at", "verdicts", ["created_at"])
