"""Create the schema in an empty database or bring an older one up to `SCHEMA_VERSION`.

Runs at every start, in one transaction, under a lock (PostgreSQL advisory lock, SQLite
`BEGIN IMMEDIATE`), so several server workers starting together migrate exactly once. DDL is
transactional on both backends: a failed step leaves the database as it was.

To change the schema: edit schema.py, bump `SCHEMA_VERSION`, and append a step to `STEPS` that
turns version N-1 into N with plain `ALTER TABLE` / UPDATE statements valid on both backends.
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
    inspect,
    select,
    table,
    text,
    update,
)

from counterscan.errors import CounterscanError
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.db import WRITE

ADVISORY_LOCK_KEY = 0x636F756E74  # "count": any constant shared by every counterscan process


def migrate(engine: Engine) -> tuple[int, int]:
    """Bring the database to `SCHEMA_VERSION`. Returns (version found, version now); 0 = empty."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        found = current_version(conn)
        if found == 0:
            s.metadata.create_all(conn)
            _record_version(conn, s.SCHEMA_VERSION)
            return 0, s.SCHEMA_VERSION
        if found > s.SCHEMA_VERSION:
            raise CounterscanError(
                f"the database has schema version {found}, newer than this counterscan "
                f"understands ({s.SCHEMA_VERSION}); upgrade counterscan"
            )
        for version in range(found + 1, s.SCHEMA_VERSION + 1):
            STEPS[version](conn)
            _record_version(conn, version)
        return found, s.SCHEMA_VERSION


def current_version(conn: Connection) -> int:
    """The schema version of the database; 0 when it has no counterscan tables at all."""
    tables = set(inspect(conn).get_table_names())
    if "schema_version" not in tables:
        if tables & {"items", "verdicts"}:
            raise CounterscanError(
                "the database has counterscan tables but no schema_version table; "
                "it was not made by counterscan, refusing to touch it"
            )
        return 0
    return int(conn.execute(select(func.max(s.schema_version.c.version))).scalar() or 0)


def _record_version(conn: Connection, version: int) -> None:
    conn.execute(insert(s.schema_version).values(version=version, applied_at=datetime.now(UTC)))


# --- version 1: the first release, frozen here so the step below (and its test) has a start ---


def v1_metadata() -> MetaData:
    """Schema version 1 exactly as released. Never edit: old databases look like this."""
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
    """An empty version-1 database (for the migration test and for trying upgrades by hand)."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        v1_metadata().create_all(conn)
        _record_version(conn, 1)


# --- steps ---


def _v2_queue_columns(conn: Connection) -> None:
    """v1 -> v2: the queue joined and sorted on the fly; now items carry their review state.

    Adds `items.priority_rank` (sort key), `items.status` and `items.verdict_id` (the latest
    verdict), fills them from the existing rows, and indexes the queue's sort order.
    """
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
    """v2 -> v3: `verdicts.recorded_by` (NULL for older verdicts: not known) and the
    `sightings` table (empty: earlier repeats were not recorded)."""
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
    """v3 -> v4: `items.fingerprint` (NULL for older rows: made from the evidence when the
    item becomes a reference) and `items.priority_reason` (NULL: the model's priority)."""
    blob = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
    conn.execute(text(f"ALTER TABLE items ADD COLUMN fingerprint {blob}"))
    conn.execute(text("ALTER TABLE items ADD COLUMN priority_reason VARCHAR(512)"))


# Step N turns version N-1 into N. Steps are frozen: they spell out their DDL rather than use
# schema.py, which describes only the newest version.
STEPS: dict[int, Callable[[Connection], None]] = {
    2: _v2_queue_columns,
    3: _v3_audit_and_sightings,
    4: _v4_similar_cases,
}
