"""Database URLs and engines: SQLite (the default, a file) and PostgreSQL (psycopg 3).

SQLite runs in WAL mode with synchronous=FULL, so a committed score or verdict survives a power
cut and readers never wait for the writer. SQLite transactions that write start with
`BEGIN IMMEDIATE` (see `write_options`): a deferred transaction that reads first and writes later
can fail with "database is locked" when another process wrote in between, instead of waiting.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import StaticPool

from counterscan.errors import CounterscanError

SQLITE_BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another writer before failing
PG_CONNECT_TIMEOUT_S = 10  # seconds to reach PostgreSQL (TCP, TLS, authentication)
_BEGIN_MODES = {"DEFERRED": "BEGIN", "IMMEDIATE": "BEGIN IMMEDIATE"}
# Execution option for transactions that will write (ignored on PostgreSQL).
WRITE = {"sqlite_begin": "IMMEDIATE"}
# pg_advisory_xact_lock key that orders verdict transactions (see `verdicts_in_commit_order`).
VERDICT_ORDER_LOCK = 0x63737664  # "csvd"


class StorageUnavailable(RuntimeError):
    """The database cannot be reached or is locked: the HTTP layer answers 503."""


def normalise_url(db_url: str) -> URL:
    """Parse a database URL; plain `postgresql://` and `postgres://` mean psycopg 3."""
    try:
        url = make_url(db_url)
    except ArgumentError:
        raise CounterscanError(
            f"database URL {db_url!r} is not valid (use sqlite:///path/to/file.db or "
            "postgresql://user:password@host:5432/dbname)"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise CounterscanError(
                f"database driver {driver!r} is not supported; use postgresql:// (psycopg 3)"
            )
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise CounterscanError(f"database driver {driver!r} is not supported; use sqlite://")
        return url.set(drivername="sqlite+pysqlite")
    raise CounterscanError(
        f"database {backend!r} is not supported (use sqlite:///FILE or postgresql://...)"
    )


def safe_url(url: URL) -> str:
    """The URL for messages and logs: never the password."""
    return url.render_as_string(hide_password=True)


def make_engine(db_url: str) -> Engine:
    url = normalise_url(db_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    # pool_pre_ping: a server restart costs one failed check, not a failed request.
    # connect_timeout: an unreachable or stuck server fails start-up (and requests, with 503)
    # after PG_CONNECT_TIMEOUT_S instead of hanging on the operating system's TCP timeout;
    # a `?connect_timeout=` in the URL wins.
    connect_args = (
        {} if "connect_timeout" in url.query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    )
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=PG_CONNECT_TIMEOUT_S,
        connect_args=connect_args,
    )


def set_wal(cursor: Any, timeout_s: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> None:
    """PRAGMA journal_mode=WAL, tried again while another connection holds the lock. Two
    connections switching a new database to WAL at once (`serve --workers N` starting) can get
    "database is locked" at once, without SQLite's busy wait: each holds the read lock the other
    needs to go (SQLite refuses to wait when waiting could deadlock). Seen in CI 1 time in 13."""
    deadline = time.monotonic() + timeout_s
    pause = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.05)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if database in ("", ":memory:"):
        # One shared connection, or every checkout would see a different empty database.
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"]["check_same_thread"] = False
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN instead of the driver's own guesswork.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        set_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(_BEGIN_MODES[mode])

    return engine


def verdicts_in_commit_order(conn: Connection) -> None:
    """Call in a verdict's transaction before inserting it: verdict ids then grow in commit
    order, so other processes can follow the table by its newest id (similar/sync.py).
    PostgreSQL hands out sequence values before commit, so two verdict transactions take turns
    (a transaction lock, held for the insert and commit only); SQLite writers already do."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": VERDICT_ORDER_LOCK})


@contextmanager
def unavailable_on_db_errors() -> Iterator[None]:
    """Connection loss, server down, SQLite locked too long -> StorageUnavailable."""
    try:
        yield
    except (OperationalError, InterfaceError) as e:
        raise StorageUnavailable(f"database unavailable: {_first_line(e)}") from e
    except DBAPIError as e:
        if e.connection_invalidated:
            raise StorageUnavailable(f"database connection lost: {_first_line(e)}") from e
        raise


def _first_line(e: DBAPIError) -> str:
    return (str(e.orig) if e.orig else str(e)).strip().splitlines()[0]
