"""Databases as the hand-written migrator left them before Alembic, rebuilt by its frozen code.

That migrator kept only `schema_version` (one row per version); `migrate()` recognises such a
database by it, stamps the matching Alembic revision and upgrades from there. The code below is
the old migrator's, unchanged, so the upgrade tests start from exactly what old releases wrote
(and one can try an upgrade by hand). Never edit: old databases look like this.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    column,
    func,
    insert,
    select,
    table,
    text,
    update,
)

from counterscan.serve.storage import schema as s
from counterscan.serve.storage.db import WRITE

LAST_VERSION = 4  # the newest version the hand-written migrator knew


def v1_metadata() -> MetaData:
    """Schema version 1 exactly as released."""
    md = MetaData()
    Table(
        "schema_version",
        md,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("applied_at", s.UTCDateTime, nullable=False),
    )
    Table(
        "items",
        md,
        Column("id", String(32), primary_key=True),
        Column("sha256", String(64), nullable=False),
        Column("phash", String(16), nullable=False),
        Column("score", Float, nullable=False),
        Column("priority", String(8), nullable=False),
        Column("model_version", String(128), nullable=False),
        Column("listing_id", String(256), index=True),
        Column("source", String(128), index=True),
        Column("url", Text),
        Column("created_at", s.UTCDateTime, nullable=False, index=True),
        Column("width", Integer, nullable=False),
        Column("height", Integer, nullable=False),
        Column("embedding", LargeBinary),
        UniqueConstraint("sha256", "model_version", name="uq_items_sha256_model"),
    )
    Table(
        "verdicts",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("item_id", String(32), ForeignKey("items.id"), nullable=False, index=True),
        Column("verdict", String(16), nullable=False),
        Column("inspector", String(128), nullable=False),
        Column("note", Text, nullable=False, server_default=text("''")),
        Column("created_at", s.UTCDateTime, nullable=False),
    )
    return md


def create_v1(engine: Engine) -> None:
    """An empty version-1 database, as the first release made it."""
    create_legacy(engine, 1)


def create_legacy(engine: Engine, version: int) -> None:
    """An empty database at `version` (1..LAST_VERSION), as the hand-written migrator left it
    after upgrading a version-1 database step by step."""
    if not 1 <= version <= LAST_VERSION:
        raise ValueError(f"the hand-written migrator knew versions 1 to {LAST_VERSION}")
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        v1_metadata().create_all(conn)
        _record_version(conn, 1)
        for step in range(2, version + 1):
            STEPS[step](conn)
            _record_version(conn, step)


def _record_version(conn: Connection, version: int) -> None:
    versions = v1_metadata().tables["schema_version"]
    conn.execute(insert(versions).values(version=version, applied_at=datetime.now(UTC)))


def _v2_queue_columns(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE items ADD COLUMN priority_rank SMALLINT NOT NULL DEFAULT 2"))
    conn.execute(
        text("ALTER TABLE items ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'unreviewed'")
    )
    conn.execute(text("ALTER TABLE items ADD COLUMN verdict_id INTEGER"))
    items = table(
        "items", column("id"), column("priority"), column("priority_rank"), column("status"),
        column("verdict_id"),
    )  # fmt: skip
    verdicts = table("verdicts", column("id"), column("item_id"))
    ranks = {"high": 0, "medium": 1, "low": 2}
    conn.execute(update(items).values(priority_rank=case(ranks, value=items.c.priority, else_=2)))
    latest = select(func.max(verdicts.c.id)).where(verdicts.c.item_id == items.c.id)
    conn.execute(update(items).values(verdict_id=latest.scalar_subquery()))
    conn.execute(update(items).where(items.c.verdict_id.is_not(None)).values(status="reviewed"))
    conn.execute(
        text(
            "CREATE INDEX ix_items_queue ON items "
            "(status, priority_rank, score DESC, created_at, id)"
        )
    )


def _v3_audit_and_sightings(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE verdicts ADD COLUMN recorded_by VARCHAR(128)"))
    md = MetaData()
    Table("items", md, Column("id", String(32), primary_key=True))  # for the foreign key only
    sightings = Table(
        "sightings",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("item_id", String(32), ForeignKey("items.id"), nullable=False, index=True),
        Column("listing_id", String(256), index=True),
        Column("source", String(128)),
        Column("url", Text),
        Column("created_at", s.UTCDateTime, nullable=False),
    )
    sightings.create(conn)


def _v4_similar_cases(conn: Connection) -> None:
    blob = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
    conn.execute(text(f"ALTER TABLE items ADD COLUMN fingerprint {blob}"))
    conn.execute(text("ALTER TABLE items ADD COLUMN priority_reason VARCHAR(512)"))


# Step N turned version N-1 into N.
STEPS: dict[int, Callable[[Connection], None]] = {
    2: _v2_queue_columns,
    3: _v3_audit_and_sightings,
    4: _v4_similar_cases,
}
