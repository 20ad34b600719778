"""Schema version 3: `verdicts.recorded_by` and the `sightings` table.

`recorded_by` is NULL for older verdicts (not known); `sightings` starts empty (earlier repeats
were not recorded).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("verdicts", sa.Column("recorded_by", sa.String(128)))
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(32), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("listing_id", sa.String(256)),
        sa.Column("source", sa.String(128)),
        sa.Column("url", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sightings_item_id", "sightings", ["item_id"])
    op.create_index("ix_sightings_listing_id", "sightings", ["listing_id"])
