"""Schema version 2: items carry their review state (the queue joined and sorted on the fly).

Adds `items.priority_rank` (sort key), `items.status` and `items.verdict_id` (the latest
verdict), fills them from the existing rows, and indexes the queue's sort order.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "items",
        sa.Column("priority_rank", sa.SmallInteger(), nullable=False, server_default=sa.text("2")),
    )
    op.add_column(
        "items",
        sa.Column("status", sa.String(16), nullable=False, server_default=sa.text("'unreviewed'")),
    )
    op.add_column("items", sa.Column("verdict_id", sa.Integer()))
    items = sa.table(
        "items", sa.column("id"), sa.column("priority"), sa.column("priority_rank"),
        sa.column("status"), sa.column("verdict_id"),
    )  # fmt: skip
    verdicts = sa.table("verdicts", sa.column("id"), sa.column("item_id"))
    ranks = {"high": 0, "medium": 1, "low": 2}
    op.execute(items.update().values(priority_rank=sa.case(ranks, value=items.c.priority, else_=2)))
    latest = sa.select(sa.func.max(verdicts.c.id)).where(verdicts.c.item_id == items.c.id)
    op.execute(items.update().values(verdict_id=latest.scalar_subquery()))
    op.execute(items.update().where(items.c.verdict_id.is_not(None)).values(status="reviewed"))
    op.create_index(
        "ix_items_queue",
        "items",
        ["status", "priority_rank", sa.text("score DESC"), "created_at", "id"],
    )
