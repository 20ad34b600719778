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

from counterscan.serve.storage import schema as s
from counterscan.serve.storage.db import WRITE
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
    func,
    insert,
    inspect,
    select,
    text,
    update,
)

from counterscan.errors import CounterscanError

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
    verdict), fills them from the existing rows, indexes the queue's sort order, and adds
    `verdicts.recorded_by` (unknown, so NULL, for old verdicts).
    """
    conn.execute(text("ALTER TABLE items ADD COLUMN priority_rank SMALLINT NOT NULL DEFAULT 2"))
    conn.execute(
        text("ALTER TABLE items ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'unreviewed'")
    )
    conn.execute(text("ALTER TABLE items ADD COLUMN verdict_id INTEGER"))
    rank = case(s.PRIORITY_RANK, value=s.items.c.priority, else_=len(s.PRIORITIES) - 1)
    conn.execute(update(s.items).values(priority_rank=rank))
    latest = (
        select(func.max(s.verdicts.c.id))
        .where(s.verdicts.c.item_id == s.items.c.id)
        .scalar_subquery()
    )
    conn.execute(update(s.items).values(verdict_id=latest))
    conn.execute(update(s.items).where(s.items.c.verdict_id.is_not(None)).values(status="reviewed"))
    s.QUEUE_INDEX.create(conn)
    conn.execute(text("ALTER TABLE verdicts ADD COLUMN recorded_by VARCHAR(128)"))


STEPS: dict[int, Callable[[Connection], None]] = {2: _v2_queue_columns}
