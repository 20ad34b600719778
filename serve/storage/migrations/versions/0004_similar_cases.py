"""Schema version 4: `items.fingerprint` and `items.priority_reason` (similar cases).

Both NULL for older rows: the fingerprint is made from the evidence when the item becomes a
reference; a NULL reason means the model's own priority.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("fingerprint", sa.LargeBinary()))
    op.add_column("items", sa.Column("priority_reason", sa.String(512)))
