"""Faults a real `counterscan serve` process must survive without losing what it acknowledged:

- SIGKILL while verdicts and scores are being written, then a restart on the same database
  (SQLite and PostgreSQL): every acknowledged verdict and item is there, with its evidence,
  and the database is consistent (each item's current verdict is its latest one).
- PostgreSQL stopped while serving (a cluster of the test's own): /readyz fails, writes answer
  503 with a clear detail and quickly, and the service recovers by itself when it returns.
A full data disk is in test_rel_disk.py, model files that are broken on reload in
test_rel_reload.py.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from counterscan.serve.storage.db import normalise_url

VERDICTS = ("counterfeit", "genuine", "unsure")
PROGRESS_HANG_S = 120  # a hang guard only: nothing waits for it unless the writers hang


@dataclass
class Acknowledged:
    """What the server answered 200 to: it must all be there after any crash."""

    items: dict[str, bytes] = field(default_factory=dict)  # id -> image bytes
    verdicts: dict[str, str] = field(default_factory=dict)  # note -> item id
    lock: threading.Lock = field(default_factory=threading.Lock)


def _score(http: httpx.Client, data: bytes, ack: Acknowledged) -> None:
    r = http.post("/v1/score", files={"image": ("p.jpg", data)})
    if r.status_code == 200:
        with ack.lock:
            ack.items[r.json()["id"]] = data
    elif r.status_code != 503:
        raise AssertionError(f"score: {r.status_code} {r.text}")


def _writer(server: Any, keys: dict[str, str], hostile: Any, ack: Acknowledged, n: int, seed: int):
    """Post verdicts (and now and then a new photo) until the connection drops."""
    rng = random.Random(seed)
    headers = {"X-API-Key": keys["inspector"]}
    with server.client(timeout=30) as http:
        http.headers.update(headers)
        for i in range(n):
            try:
                if i % 5 == 0:
                    _score(http, hostile.photo((200 + seed, 100 + i), fmt="JPEG"), ack)
                    continue
                with ack.lock:
                    item = rng.choice(sorted(ack.items))
                note = f"w{seed}-{i}"
                body = {"verdict": rng.choice(VERDICTS), "note": note}
                r = http.post(f"/v1/items/{item}/verdict", json=body)
            except httpx.TransportError:
                return  # the server is gone: whatever was not answered was not acknowledged
            if r.status_code == 200:
                with ack.lock:
                    ack.verdicts[note] = item


def check_consistent(db_url: str, data_dir: Path, ack: Acknowledged) -> dict[str, int]:
    """Everything acknowledged is stored, and the rows agree with each other and the files."""
    engine = create_engine(normalise_url(db_url))
    try:
        with engine.connect() as conn:
            items = conn.execute(text("SELECT id, sha256, status, verdict_id FROM items")).all()
            verdicts = conn.execute(text("SELECT id, item_id, note FROM verdicts")).all()
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    finally:
        engine.dispose()
    by_id = {row.id: row for row in items}
    notes = {row.note: row.item_id for row in verdicts}
    lost = {note: item for note, item in ack.verdicts.items() if notes.get(note) != item}
    assert not lost, f"{len(lost)} acknowledged verdicts lost, e.g. {next(iter(lost.items()))}"
    assert set(ack.items) <= set(by_id), "an acknowledged item is missing"
    latest: dict[str, int] = {}
    for row in verdicts:
        assert row.item_id in by_id, "a verdict points at no item"
        latest[row.item_id] = max(latest.get(row.item_id, 0), row.id)
    for row in items:
        assert row.verdict_id == latest.get(row.id), f"item {row.id}: current verdict is not latest"
        assert row.status == ("reviewed" if row.id in latest else "unreviewed")
        h = row.sha256
        assert (data_dir / "evidence" / h[:2] / h[2:4] / h).is_file(), "evidence file missing"
    return {"items": len(items), "verdicts": len(verdicts)}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def kill_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kill' / 'counterscan.db'}"
    return request.getfixturevalue("pg_url")


def kill_rounds(start_server, kill_db, keys, hostile, rounds: int, writers: int) -> None:
    server = start_server(db=kill_db)
    ack = Acknowledged()
    with server.client(keys["crawler"]) as http:
        for i in range(10):
            _score(http, hostile.photo((120, 90 + i), fmt="JPEG"), ack)
    for round_ in range(rounds):
        threads = [
            threading.Thread(
                target=_writer, args=(server, keys, hostile, ack, 10_000, round_ * 100 + w)
            )
            for w in range(writers)
        ]
        before = len(ack.verdicts)
        for t in threads:
            t.start()
        # The kill comes once 40 more verdicts are acknowledged (an event, not a time window);
        # the deadline only stops a test whose writers hang.
        deadline = time.monotonic() + PROGRESS_HANG_S
        while len(ack.verdicts) < before + 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()  # mid-write: several requests are in flight
        for t in threads:
            t.join(timeout=60)
        assert len(ack.verdicts) >= before + 40, f"no 40 verdicts in {PROGRESS_HANG_S} s"
        server.start()
        counts = check_consistent(kill_db, server.spec.data_dir, ack)
        print(f"kill round {round_ + 1}: {counts}, acknowledged {len(ack.verdicts)} verdicts")
    with server.client(keys["inspector"]) as http:  # and it serves on
        item = next(iter(ack.items))
        assert http.get(f"/v1/items/{item}/image").content == ack.items[item]


def test_sigkill_while_writing_loses_nothing_acknowledged(
    start_server: Any, kill_db: str, rel_keys: dict[str, str], hostile: Any
) -> None:
    kill_rounds(start_server, kill_db, rel_keys, hostile, rounds=2, writers=6)


@pytest.mark.slow
def test_sigkill_many_rounds(start_server: Any, kill_db: str, rel_keys, hostile) -> None:
    kill_rounds(start_server, kill_db, rel_keys, hostile, rounds=15, writers=12)


# ---------------------------------------------------------------------------- database down


# How long the service may wait to reach PostgreSQL, set high on purpose for this test (a
# `?connect_timeout=` in the URL wins over serve/storage/db.py's PG_CONNECT_TIMEOUT_S). A request
# that waited for it takes at least this long; one that fails on the stopped server's refused
# connection takes well under a second on an idle machine. Half of it is the margin for a busy
# machine, so the bound below fails only a request that waited for the timeout.
DEAD_DB_CONNECT_TIMEOUT_S = 60


def _timed(call: Any) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def test_postgres_stopped_while_serving_then_back(
    start_server: Any, throwaway_pg: Any, rel_keys: dict[str, str], hostile: Any
) -> None:
    server = start_server(db=f"{throwaway_pg.url}?connect_timeout={DEAD_DB_CONNECT_TIMEOUT_S}")
    inspector = server.client(rel_keys["inspector"])
    ok = inspector.post(
        "/v1/score", files={"image": ("a.jpg", hostile.photo((90, 60), fmt="JPEG"))}
    )
    assert ok.status_code == 200
    item = ok.json()["id"]

    throwaway_pg.stop("fast")
    ready, _ = _timed(lambda: inspector.get("/readyz"))
    assert ready.status_code == 503 and ready.json()["detail"] == "database unreachable"
    assert inspector.get("/healthz").status_code == 200  # alive, just not ready
    writes = [
        lambda: inspector.post(f"/v1/items/{item}/verdict", json={"verdict": "genuine"}),
        lambda: inspector.post(
            "/v1/score", files={"image": ("b.jpg", hostile.photo((91, 60), fmt="JPEG"))}
        ),
        lambda: inspector.get("/v1/queue"),
        lambda: inspector.get(f"/v1/items/{item}"),
    ]
    for call in writes:
        r, seconds = _timed(call)
        assert r.status_code == 503, r.text
        assert r.json()["detail"].startswith("the database is unavailable"), r.text
        assert seconds < DEAD_DB_CONNECT_TIMEOUT_S / 2, (
            f"a request waited {seconds:.1f} s for the dead database: the connect timeout"
        )
    assert server.alive()

    throwaway_pg.start()  # the service finds it again by itself, no restart
    deadline = time.monotonic() + 60
    while inspector.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "not ready again within 60 s of the database"
        time.sleep(0.2)
    r = inspector.post(f"/v1/items/{item}/verdict", json={"verdict": "counterfeit", "note": "back"})
    assert r.status_code == 200 and r.json()["verdict"]["note"] == "back"
    r = inspector.post("/v1/score", files={"image": ("b.jpg", hostile.photo((92, 60), fmt="JPEG"))})
    assert r.status_code == 200
    inspector.close()
