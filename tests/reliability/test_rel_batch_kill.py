"""SIGKILL of a real `counterscan serve` process in the middle of a burst of batch requests
(SQLite and PostgreSQL): every image of every batch the server answered is there after the
restart, as its original bytes and its row, as answered.

The scoring path writes a request's originals together and fsyncs them in one pass, and keeps
thumbnails unsynced (serve/storage/evidence.py); this is the test that an acknowledged batch
never depends on anything that a crash can take away. (A SIGKILL keeps the page cache, so it
checks the order of the steps and the atomic renames, not the fsyncs themselves.)
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from counterscan.serve.storage.db import normalise_url

BATCH = 12
CLIENTS = 4
BATCHES_BEFORE_KILL = 5  # acknowledged in this round before the kill (an event, not a time)
PROGRESS_HANG_S = 180  # a hang guard only


@dataclass
class Answered:
    """Every image the server answered `ok` in a batch: id -> what it said and was sent."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: int = 0
    cut: int = 0  # requests the kill cut off (not acknowledged)
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_images(self, hostile: Any, n: int) -> list[tuple[bytes, str]]:
        with self.lock:
            start, self.counter = self.counter, self.counter + n
        # Distinct sizes give distinct pictures (hostile.photo seeds on the size): new bytes.
        return [
            (hostile.photo((64 + k % 256, 48 + k // 256), fmt="JPEG"), f"u{k}")
            for k in range(start, start + n)
        ]


def _burst(server: Any, key: str, hostile: Any, answered: Answered) -> None:
    """Post batches until the connection drops; record what was answered ok."""
    with server.client(key, timeout=120) as http:
        while True:
            images = answered.next_images(hostile, BATCH)
            files = [("images", (f"{url}.jpg", data, "image/jpeg")) for data, url in images]
            form = {"source": ["burst"] * BATCH, "url": [url for _, url in images]}
            try:
                r = http.post("/v1/score/batch", files=files, data=form)
            except httpx.TransportError:
                with answered.lock:
                    answered.cut += 1
                return  # the server is gone: this batch was not acknowledged
            assert r.status_code == 200, r.text
            results = r.json()["results"]
            with answered.lock:
                for (data, url), result in zip(images, results, strict=True):
                    assert result["ok"], result
                    answered.items[result["id"]] = {**result, "data": data, "sent_url": url}
                answered.batches += 1


def _check(db_url: str, data_dir: Path, answered: Answered) -> int:
    """Each answered image has its row, as answered, and its original, byte for byte; no row
    points at a missing original. Returns the number of rows."""
    engine = create_engine(normalise_url(db_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, sha256, score, priority, model_version, source, url FROM items")
            ).all()
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        engine.dispose()
    by_id = {row.id: row for row in rows}
    for item_id, sent in answered.items.items():
        row = by_id.get(item_id)
        assert row is not None, f"acknowledged item {item_id} has no row"
        assert row.sha256 == hashlib.sha256(sent["data"]).hexdigest() == sent["sha256"]
        assert row.score == pytest.approx(sent["score"], abs=1e-6)
        assert (row.priority, row.model_version) == (sent["priority"], sent["model_version"])
        assert (row.source, row.url) == ("burst", sent["sent_url"])
        path = data_dir / "evidence" / row.sha256[:2] / row.sha256[2:4] / row.sha256
        assert path.read_bytes() == sent["data"], f"the original of {item_id} is not intact"
    for row in rows:  # not only the acknowledged: a row never points at a missing file
        path = data_dir / "evidence" / row.sha256[:2] / row.sha256[2:4] / row.sha256
        assert path.is_file(), f"item {row.id} points at a missing original"
    return len(rows)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def burst_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'burst' / 'counterscan.db'}"
    return request.getfixturevalue("pg_url")


def test_sigkill_during_a_batch_burst_keeps_every_acknowledged_image(
    start_server: Any, burst_db: str, rel_keys: dict[str, str], hostile: Any
) -> None:
    server = start_server(db=burst_db)
    answered = Answered()
    for round_ in range(2):
        before = answered.batches
        clients = [
            threading.Thread(target=_burst, args=(server, rel_keys["crawler"], hostile, answered))
            for _ in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        deadline = time.monotonic() + PROGRESS_HANG_S
        while answered.batches < before + BATCHES_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # mid-burst: the other clients' batches are being decoded and stored
        for client in clients:
            client.join(timeout=120)
        assert answered.batches >= before + BATCHES_BEFORE_KILL, "the burst made no progress"
        assert answered.cut >= 1, "the kill cut no request off: it did not hit the burst"
        server.start()
        rows = _check(burst_db, server.spec.data_dir, answered)
        print(f"round {round_ + 1}: {len(answered.items)} acknowledged, {rows} rows")
    with server.client(rel_keys["inspector"]) as http:  # and it serves them on
        for item_id in list(answered.items)[:: max(1, len(answered.items) // 8)]:
            assert http.get(f"/v1/items/{item_id}/image").content == answered.items[item_id]["data"]
            assert http.get(f"/v1/items/{item_id}/thumbnail").status_code == 200
