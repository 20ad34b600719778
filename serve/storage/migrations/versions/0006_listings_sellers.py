"""Schema version 6: listings, sellers, the photos of each listing, sellers' contacts, alerts and their webhook outbox.

All six tables start empty: items scored before this version belong to no listing.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sellers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("seller_id", sa.String(256), nullable=False),
        sa.Column("name", sa.String(256)),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "seller_id", name="uq_sellers_source_seller_id"),
    )
    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("listing_id", sa.String(256), nullable=False),
        sa.Column("seller_ref", sa.Integer(), sa.ForeignKey("sellers.id")),
        sa.Column("url", sa.Text()),
        sa.Column("title", sa.String(1000)),
        sa.Column("text", sa.Text()),
        sa.Column("price", sa.Float()),
        sa.Column("category", sa.String(256)),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "listing_id", name="uq_listings_source_listing_id"),
    )
    op.create_index("ix_listings_seller_ref", "listings", ["seller_ref"])
    op.create_index("ix_listings_category", "listings", ["category"])
    op.create_table(
        "listing_items",
        sa.Column("listing_ref", sa.Integer(), sa.ForeignKey("listings.id"), primary_key=True),
        sa.Column("item_id", sa.String(32), sa.ForeignKey("items.id"), primary_key=True),
    )
    op.create_index("ix_listing_items_item_id", "listing_items", ["item_id"])
    op.create_table(
        "seller_contacts",
        sa.Column("seller_ref", sa.Integer(), sa.ForeignKey("sellers.id"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(64), primary_key=True),
    )
    op.create_index("ix_seller_contacts_value", "seller_contacts", ["kind", "value"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("dedupe_key", sa.String(800), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(128)),
        sa.Column("seller_id", sa.String(256)),
        sa.Column("item_ids", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("acknowledged_by", sa.String(128)),
        sa.UniqueConstraint("dedupe_key", name="uq_alerts_dedupe_key"),
    )
    op.create_index("ix_alerts_created_at", "alerts", ["created_at"])
    op.create_table(
        "alert_outbox",
        sa.Column("alert_id", sa.String(32), sa.ForeignKey("alerts.id"), primary_key=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(512)),
    )
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["delivered_at", "next_attempt_at"])
