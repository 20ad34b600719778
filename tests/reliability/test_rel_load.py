"""Load: a bounded soak of a real `counterscan serve` process on loopback. A fixed count of
mixed requests (new photos, repeats, batches with a bad item, hostile files, queue and item
reads, verdicts) from concurrent clients: no 5xx, no transport error, every good request
answered 200 and every bad one its documented 4xx, and the server's resident memory grows by
less than a stated bound after warm-up. Every acknowledged item and verdict is then in the
database.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

WARM_UP_FRACTION = 0.2  # memory is measured from the end of this part of the run


@dataclass
class Tally:
    """What the clients saw; shared by the client threads."""

    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    item_ids: set[str] = field(default_factory=set)
    verdict_notes: set[str] = field(default_factory=set)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, r: httpx.Response, expected: int, seconds: float) -> None:
        with self.lock:
            self.statuses[f"{kind} {r.status_code}"] += 1
            self.latencies.setdefault(kind, []).append(seconds)
            if r.status_code != expected:
                self.failures.append(
                    f"{kind}: {r.status_code} (expected {expected}) {r.text[:200]}"
                )


def _plan(n: int, seed: int) -> list[str]:
    """The request mix, in a fixed random order."""
    mix = {
        "new": 40, "repeat": 15, "batch": 8, "bad": 15, "bomb": 4,
        "queue": 8, "item": 5, "verdict": 5,
    }  # fmt: skip
    kinds = [k for k, weight in mix.items() for _ in range(weight)]
    rng = random.Random(seed)
    return [rng.choice(kinds) for _ in range(n)]


class Soak:
    def __init__(self, server: Any, keys: dict[str, str], hostile: Any, seed: int = 0) -> None:
        self.server = server
        self.keys = keys
        self.hostile = hostile
        self.tally = Tally()
        self.counter = 0
        self.rng = random.Random(seed)
        self.bad = [c.make() for c in hostile.CASES if c.status == 415][:6]
        self.bomb = hostile.png_header_only(100_000, 100_000)
        self.sent_photos: list[bytes] = []

    def photo(self) -> bytes:
        with self.tally.lock:
            self.counter += 1
            n = self.counter
        data = self.hostile.photo((300 + n % 97, 200 + n // 97 % 89), fmt="JPEG", quality=85)
        with self.tally.lock:
            self.sent_photos.append(data)
        return data

    def one(self, http: httpx.Client, kind: str) -> None:
        start = time.perf_counter()
        crawler = {"X-API-Key": self.keys["crawler"]}
        inspector = {"X-API-Key": self.keys["inspector"]}
        expected = 200
        if kind in ("new", "repeat"):
            data = (
                self.photo()
                if kind == "new" or not self.sent_photos
                else self.rng.choice(self.sent_photos)
            )
            r = http.post(
                "/v1/score",
                headers=crawler,
                files={"image": ("p.jpg", data)},
                data={"source": "soak"},
            )
        elif kind == "batch":
            files = [("images", (f"{i}.jpg", self.photo())) for i in range(3)]
            files.append(("images", ("bad.jpg", self.rng.choice(self.bad))))
            r = http.post("/v1/score/batch", headers=crawler, files=files)
        elif kind in ("bad", "bomb"):
            data = self.bomb if kind == "bomb" else self.rng.choice(self.bad)
            r = http.post("/v1/score", headers=crawler, files={"image": ("x.jpg", data)})
            expected = 413 if kind == "bomb" else 415
        elif kind == "queue":
            r = http.get("/v1/queue", headers=inspector, params={"limit": 20, "source": "soak"})
        else:
            ids = sorted(self.tally.item_ids)
            if not ids:
                return
            item = self.rng.choice(ids)
            if kind == "item":
                r = http.get(f"/v1/items/{item}/thumbnail", headers=inspector)
            else:
                note = f"soak-{self.rng.getrandbits(48):x}"
                body = {
                    "verdict": self.rng.choice(["counterfeit", "genuine", "unsure"]),
                    "note": note,
                }
                r = http.post(f"/v1/items/{item}/verdict", headers=inspector, json=body)
                if r.status_code == 200:
                    with self.tally.lock:
                        self.tally.verdict_notes.add(note)
        self.tally.record(kind, r, expected, time.perf_counter() - start)
        if r.status_code == 200 and kind in ("new", "repeat"):
            with self.tally.lock:
                self.tally.item_ids.add(r.json()["id"])
        if r.status_code == 200 and kind == "batch":
            results = r.json()["results"]
            with self.tally.lock:
                self.tally.item_ids.update(x["id"] for x in results if x["ok"])
            if [x["ok"] for x in results] != [True, True, True, False]:
                self.tally.failures.append(f"batch: {[x.get('error') for x in results]}")

    def run(self, n: int, concurrency: int) -> dict[str, float]:
        plan = _plan(n, seed=1)
        clients = [self.server.client(timeout=120) for _ in range(concurrency)]

        def worker(index_kind: tuple[int, str]) -> None:
            index, kind = index_kind
            try:
                self.one(clients[index % concurrency], kind)
            except httpx.HTTPError as e:  # a dropped connection is a failed request too
                with self.tally.lock:
                    self.tally.failures.append(f"{kind}: {type(e).__name__} {e}")

        # Resident memory after each tenth of the run: growth that goes on to the end is a
        # leak; growth that stops after the warm-up is caches filling (SQLite, ORT, allocator).
        start = time.perf_counter()
        trajectory: list[float] = []
        tenth = max(1, n // 10)
        with ThreadPoolExecutor(concurrency) as pool:
            for first in range(0, n, tenth):
                list(pool.map(worker, enumerate(plan[first : first + tenth], start=first)))
                trajectory.append(self.server.memory_mb()["rss"])
        seconds = time.perf_counter() - start
        end = self.server.memory_mb()
        after_warm_up = trajectory[max(0, round(len(trajectory) * WARM_UP_FRACTION) - 1)]
        halfway = trajectory[len(trajectory) // 2 - 1]
        for client in clients:
            client.close()
        latencies = sorted(x for per_kind in self.tally.latencies.values() for x in per_kind)
        return {
            "requests": n,
            "concurrency": concurrency,
            "seconds": seconds,
            "rss_after_warm_up_mb": after_warm_up,
            "rss_end_mb": end["rss"],
            "peak_mb": end["peak"],
            "growth_mb": end["rss"] - after_warm_up,
            "late_growth_mb": end["rss"] - halfway,
            "trajectory": trajectory,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
            "p99_ms_by_kind": {
                kind: round(1000 * sorted(xs)[int(len(xs) * 0.99)])
                for kind, xs in sorted(self.tally.latencies.items())
            },
        }


def _check_stored(db_path: Path, tally: Tally) -> None:
    """Every acknowledged item and verdict is in the database."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        ids = {row[0] for row in db.execute("SELECT id FROM items")}
        notes = {row[0] for row in db.execute("SELECT note FROM verdicts")}
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert tally.item_ids <= ids
    assert tally.verdict_notes <= notes


def soak(
    server: Any,
    keys: dict[str, str],
    hostile: Any,
    n: int,
    concurrency: int,
    bound_mb: float,
    late_bound_mb: float | None = None,
) -> dict[str, Any]:
    """Run the soak and check it. `bound_mb`: RSS growth after the warm-up; `late_bound_mb`:
    growth over the second half (a run long enough for the caches to have filled)."""
    run = Soak(server, keys, hostile)
    stats = run.run(n, concurrency)
    print(
        f"\nsoak: {n} requests, {concurrency} clients, {stats['seconds']:.1f} s "
        f"({n / stats['seconds']:.0f}/s), p50 {stats['p50_ms']:.0f} ms, p99 {stats['p99_ms']:.0f} ms; "
        f"rss {stats['rss_after_warm_up_mb']:.0f} -> {stats['rss_end_mb']:.0f} MiB "
        f"(growth {stats['growth_mb']:+.0f}, second half {stats['late_growth_mb']:+.0f}, "
        f"bounds {bound_mb:.0f}/{late_bound_mb}), peak {stats['peak_mb']:.0f} MiB; "
        f"rss per tenth {[round(x) for x in stats['trajectory']]}; "
        f"{dict(sorted(run.tally.statuses.items()))}; p99 ms by kind {stats['p99_ms_by_kind']}"
    )
    assert not run.tally.failures, run.tally.failures[:5]
    assert not [s for s in run.tally.statuses if s.split()[1].startswith("5")]
    assert sum(run.tally.statuses.values()) >= n * 0.9  # reads before any item are skipped
    if late_bound_mb is not None:  # first: the sharper sign of a leak
        late = stats["late_growth_mb"]
        assert late < late_bound_mb, f"memory still grows: +{late:.0f} MiB in the second half"
    assert stats["growth_mb"] < bound_mb, f"RSS grew by {stats['growth_mb']:.0f} MiB"
    assert server.alive()
    with server.client() as http:
        assert http.get("/readyz").status_code == 200
    _check_stored(Path(server.spec.db.removeprefix("sqlite:///")), run.tally)
    return stats


# The leak check of `make test`: the long soak's second-half bound, shortened. Measured on 2
# busy cores (load 4-6), 2,000 requests from 16 clients, about 25 s: the second half grew by +8,
# +9, +9, +12, +12 MiB (+11 MiB at 5,000 requests); with glibc's default malloc arenas, the leak
# that serve/malloc.py fixed (MALLOC_ARENA_MAX=64, or that call removed), by +57, +69, +113 MiB
# (+74 at 5,000); with 60 KB kept per decoded image, by +66 MiB. 40 MiB is ~3x the healthy
# growth and below every leaking run: more than ~40 KiB per request through the second half fails.
SHORT_N, SHORT_CLIENTS, SHORT_LATE_BOUND_MB = 2000, 16, 40


def test_soak_short(start_server: Any, rel_keys: dict[str, str], hostile: Any) -> None:
    server = start_server()
    soak(
        server, rel_keys, hostile, n=SHORT_N, concurrency=SHORT_CLIENTS, bound_mb=100,
        late_bound_mb=SHORT_LATE_BOUND_MB,
    )  # fmt: skip


@pytest.mark.slow
def test_soak_long(start_server: Any, rel_keys: dict[str, str], hostile: Any) -> None:
    server = start_server()
    # Measured on 2 busy cores, three runs: RSS 207 -> 286, 211 -> 391 (level from 60% on),
    # 251 -> 303 MiB over 50 000 requests (level from 30% on); the second half grew by +35, +21,
    # +20 MiB. The Python heap stays flat under tracemalloc; what grows is native (allocator,
    # SQLite page caches, the similar-case references, which grow with every verdict by design).
    # Before serve/malloc.py: 331 -> 509 MiB, still climbing at the end.
    soak(server, rel_keys, hostile, n=20_000, concurrency=16, bound_mb=200, late_bound_mb=60)
