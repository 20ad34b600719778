"""Schema creation at start, migration of an old database, refusal of foreign ones."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, inspect, select, text

from counterscan.errors import CounterscanError
from counterscan.serve.storage import Store
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.db import make_engine
from counterscan.serve.storage.legacy import create_v1, v1_metadata


def test_open_creates_schema_at_current_version(store: Store) -> None:
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        versions = conn.execute(select(s.schema_version.c.version)).scalars().all()
        indexes = {i["name"] for i in inspect(conn).get_indexes("items")}
    assert {"items", "verdicts", "sightings", "schema_version"} <= tables
    assert versions == [s.SCHEMA_VERSION]
    assert "ix_items_queue" in indexes
    assert store.ping()


def test_reopen_is_a_no_op(db_url: str, data_dir: Path, save_item) -> None:
    item = save_item(1)
    with Store(db_url, data_dir) as again:
        assert again.find_scored(item.sha256, item.model_version) == item
        with again.engine.connect() as conn:
            versions = conn.execute(select(s.schema_version.c.version)).scalars().all()
    assert versions == [s.SCHEMA_VERSION]


def test_version_1_database_is_migrated_with_its_rows(db_url: str, data_dir: Path) -> None:
    """A v1 database (no status/priority_rank/verdict_id columns) keeps every row and gets the
    review state back-filled from its verdicts."""
    engine = make_engine(db_url)
    create_v1(engine)
    old = v1_metadata().tables
    now = datetime.now(UTC)
    base = dict(phash="0" * 16, model_version="m1", width=10, height=10, created_at=now)
    with engine.begin() as conn:
        for i, (priority, score) in enumerate([("low", 0.1), ("high", 0.9), ("medium", 0.5)]):
            conn.execute(
                insert(old["items"]).values(
                    id=f"{i:032x}", sha256=f"{i:064x}", score=score, priority=priority, **base
                )
            )
        for verdict in ("unsure", "counterfeit"):  # two verdicts on item 1: latest counts
            conn.execute(
                insert(old["verdicts"]).values(
                    item_id=f"{1:032x}", verdict=verdict, inspector="ana", created_at=now
                )
            )
    engine.dispose()

    with Store(db_url, data_dir) as store:
        with store.engine.connect() as conn:
            versions = conn.execute(select(s.schema_version.c.version)).scalars().all()
        assert sorted(versions) == list(range(1, s.SCHEMA_VERSION + 1))
        unreviewed, total = store.queue()
        assert total == 2
        assert [i.priority for i in unreviewed] == ["medium", "low"]  # ranked by the new column
        item = store.get_item(f"{1:032x}")
        assert item is not None
        assert item.status == "reviewed"
        assert item.verdict is not None and item.verdict.verdict == "counterfeit"
        assert [v.verdict for v in item.verdicts or []] == ["unsure", "counterfeit"]
        assert item.verdict.recorded_by is None  # not known for verdicts older than v3
        assert item.sightings == []  # the v3 table exists and is empty
        # The migrated table takes new rows and new verdicts like a fresh one.
        store.add_verdict(f"{0:032x}", "genuine", "bo", recorded_by="key-bo")
        assert store.queue()[1] == 1


def test_newer_schema_is_refused(db_url: str, data_dir: Path) -> None:
    Store(db_url, data_dir).open().close()
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            insert(s.schema_version).values(
                version=s.SCHEMA_VERSION + 1, applied_at=datetime.now(UTC)
            )
        )
    engine.dispose()
    with pytest.raises(CounterscanError, match="newer than this counterscan"):
        Store(db_url, data_dir).open()


def test_foreign_items_table_is_not_touched(db_url: str, data_dir: Path) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)"))
    engine.dispose()
    with pytest.raises(CounterscanError, match="not made by counterscan"):
        Store(db_url, data_dir).open()


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/x.db", tmp_path / "data").open()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:p@localhost/db", "not supported"),
        ("postgresql+asyncpg://u@localhost/db", "not supported"),
        ("not a url", "not valid"),
    ],
)
def test_bad_database_urls_fail_with_one_line(url: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(CounterscanError, match=message):
        Store(url, tmp_path)


def test_postgresql_url_without_driver_means_psycopg(tmp_path: Path) -> None:
    store = Store("postgresql://u:secret@127.0.0.1:1/db", tmp_path)
    assert store.url.drivername == "postgresql+psycopg"
    with pytest.raises(CounterscanError, match="cannot open database") as e:
        store.open()
    assert "secret" not in str(e.value)


@pytest.mark.parametrize("query", ["", "?connect_timeout=1"])
def test_a_postgresql_server_that_never_answers_fails_after_the_connect_timeout(
    query: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listening socket that never accepts: the TCP handshake completes (kernel backlog), the
    server's greeting never comes. Without a connect timeout open() would wait forever. Both
    the default (shortened here to 1 s) and a timeout in the URL apply."""
    import socket
    import time

    from counterscan.serve.storage import db

    monkeypatch.setattr(db, "PG_CONNECT_TIMEOUT_S", 1 if not query else 3600)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        store = Store(f"postgresql://u:pw@127.0.0.1:{port}/db{query}", tmp_path)
        started = time.monotonic()
        with pytest.raises(CounterscanError, match="cannot open database"):
            store.open()
        assert time.monotonic() - started < 30  # guards against a hang, not a speed target


def test_workers_starting_together_migrate_once(db_url: str, data_dir: Path, open_together) -> None:
    """`counterscan serve --workers N` opens N stores at once on a fresh database."""
    stores = open_together(db_url, data_dir, 4)
    try:
        with stores[0].engine.connect() as conn:
            versions = conn.execute(select(s.schema_version.c.version)).scalars().all()
        assert versions == [s.SCHEMA_VERSION]
    finally:
        for store in stores:
            store.close()


def test_connections_switching_a_new_sqlite_file_to_wal_at_once_all_get_in(
    tmp_path: Path,
) -> None:
    """Eight connections open a new database at the same moment, fifty times: each switches it
    to WAL (db.set_wal). Without the retry 1 start of 4 workers in 13 failed in CI with
    "database is locked", and this test failed 3 runs in 4."""
    for attempt in range(50):
        modes, errors = _connect_at_once(f"sqlite:///{tmp_path / f'{attempt}.db'}", 8)
        assert not errors, f"attempt {attempt}: {errors[0]}"
        assert modes == ["wal"] * 8


def _connect_at_once(url: str, n: int) -> tuple[list[str], list[BaseException]]:
    """n engines on `url` connect from n threads released together: journal modes, errors."""
    engines = [make_engine(url) for _ in range(n)]
    meet = threading.Barrier(n)
    modes: list[str] = []
    errors: list[BaseException] = []

    def connect(engine: Any) -> None:
        meet.wait()
        try:
            with engine.connect() as conn:
                modes.append(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        except BaseException as e:  # kept: a thread's exception would otherwise be lost
            errors.append(e)

    threads = [threading.Thread(target=connect, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    return modes, errors


def test_unusable_data_folder_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(CounterscanError, match="cannot use data folder"):
        Store(f"sqlite:///{tmp_path}/x.db", blocker).open()
