"""Create the schema in an empty database or bring an older one to the newest Alembic revision.

Runs at every start, in one transaction, under a lock (PostgreSQL advisory lock, SQLite
`BEGIN IMMEDIATE`), so several server workers starting together migrate exactly once. DDL is
transactional on both backends: a failed revision leaves the database as it was.

Two records of the version, written together: Alembic's `alembic_version` (the revision; the
one that counts) and `schema_version` (one row per version reached, with its time). The
hand-written migrator before Alembic kept only `schema_version`: such a database is stamped at
the matching revision (no DDL runs) and upgraded from there; releases of that time still read
`schema_version` and so refuse a database that is newer than they are.

To change the schema: see migrations/__init__.py and the README's Tests section.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, func, insert, inspect, select

from counterscan.errors import CounterscanError
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.db import WRITE

MIGRATIONS = Path(__file__).with_name("migrations")
ADVISORY_LOCK_KEY = 0x636F756E74  # "count": any constant shared by every counterscan process
# Alembic's `op` and `context` are process-wide proxies: one migration at a time per process
# (the database lock already serialises processes).
_ALEMBIC_LOCK = threading.Lock()


def migrate(engine: Engine) -> tuple[int, int]:
    """Bring the database to the newest version. Returns (version found, version now); 0 = empty."""
    head = head_version()
    with _migration_transaction(engine) as conn:
        revision, recorded = _versions(conn)
        found = max(revision, recorded)
        if found > head:
            raise CounterscanError(
                f"the database has schema version {found}, newer than this counterscan "
                f"understands ({head}); upgrade counterscan"
            )
        if revision == found == head:
            return found, head
        try:
            with _ALEMBIC_LOCK:
                config = alembic_config(conn)
                if revision == 0 and recorded > 0:  # made by the hand-written migrator
                    command.stamp(config, revision_id(recorded))
                command.upgrade(config, revision_id(head))
        except CommandError as e:
            raise CounterscanError(f"cannot migrate the database: {e}") from None
        _check_foreign_keys(conn)
        reached = [head] if found == 0 else range(found + 1, head + 1)  # new: the version made at
        for version in reached:
            conn.execute(
                insert(s.schema_version).values(version=version, applied_at=datetime.now(UTC))
            )
        return found, head


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction under the lock. On SQLite, foreign keys are off inside it and
    checked once before the commit (SQLite's own recipe for schema changes), so that
    `batch_alter_table` can recreate a table other tables refer to, such as `items`
    (see `_check_foreign_keys`)."""
    with engine.connect().execution_options(**WRITE) as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # only outside a transaction does this pragma take effect
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
                yield conn
        finally:
            if sqlite:
                try:
                    conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
                except Exception:
                    conn.invalidate()  # never back to the pool without foreign keys
                    raise


def _check_foreign_keys(conn: Connection) -> None:
    """SQLite ran the revisions without foreign keys: refuse to commit rows that break them."""
    if conn.dialect.name == "sqlite" and (
        bad := conn.exec_driver_sql("PRAGMA foreign_key_check").first()
    ):
        raise CounterscanError(
            f"the migration left a row in {bad[0]} that points at a missing {bad[2]} row"
        )


def current_version(conn: Connection) -> int:
    """The schema version of the database; 0 when it has no counterscan tables at all."""
    return max(_versions(conn))


def _versions(conn: Connection) -> tuple[int, int]:
    """(Alembic's revision as a number, the highest `schema_version` row); 0 where absent."""
    tables = set(inspect(conn).get_table_names())
    revision = _alembic_revision(conn) if "alembic_version" in tables else 0
    recorded = 0
    if "schema_version" in tables:
        recorded = int(conn.execute(select(func.max(s.schema_version.c.version))).scalar() or 0)
    if revision == recorded == 0 and tables & {"items", "verdicts"}:
        raise CounterscanError(
            "the database has counterscan tables but no schema version; "
            "it was not made by counterscan, refusing to touch it"
        )
    return revision, recorded


def _alembic_revision(conn: Connection) -> int:
    try:
        revision = MigrationContext.configure(conn).get_current_revision()
    except CommandError as e:  # several heads: not a history counterscan writes
        raise CounterscanError(f"cannot read the database's Alembic revision: {e}") from None
    if revision is None:
        return 0
    if not (revision.isdigit() and len(revision) == 4):
        raise CounterscanError(
            f"the database is at Alembic revision {revision!r}, which is not one of "
            "counterscan's; refusing to touch it"
        )
    return int(revision)


def alembic_config(conn: Connection | None = None) -> Config:
    """Alembic's configuration, built here: no alembic.ini, nothing from the working directory.
    `conn` is the connection migrations/env.py runs on."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def head_version() -> int:
    """The newest schema version: the number of the newest revision."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic revisions in {MIGRATIONS}: a broken installation")
    return int(head)


def revision_id(version: int) -> str:
    return f"{version:04d}"
