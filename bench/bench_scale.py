"""Scale benchmark: the queue, item reads, verdicts and scoring with millions of items in
PostgreSQL, through a real `counterscan serve`.

    .venv/bin/python bench/bench_scale.py --pg postgresql://USER:PW@HOST/DB \\
        [--items 1000000,10000000] [--database counterscan_bench_scale] [--model FILE.onnx]
        [--samples 200] [--keep] [--quick] [--json FILE]

For each size (growing one database: 1 million rows, then 9 million more) it fills the items
table with set-based SQL (scale_fill.py; the real schema, built by the migrations), runs VACUUM
ANALYZE, starts `counterscan serve` on it and times, one request at a time: the first queue
page, a keyset page deep in the queue (`after` = a cursor half-way down the low band), the same
depth by offset 10,000 (the old way), one item read, counterfeit and genuine verdicts (whose
re-flag then runs in the server's bounded background job) and scoring one real JPEG. Prints
the EXPLAIN (ANALYZE, BUFFERS) plans of the queue page and the verdict's statements. The
database is dropped at the end unless --keep. --pg: any database on the server (the benchmark
connects to it to create and drop its own); default $COUNTERSCAN_TEST_PG_URL.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
import scale_fill
from scale_plans import plans
from server_process import Server

TARGET_P99_MS = 100.0  # queue page and verdict, at 10 million items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("COUNTERSCAN_TEST_PG_URL"))
    parser.add_argument("--database", default="counterscan_bench_scale", help="created, dropped")
    parser.add_argument("--items", default="1000000,10000000", help="sizes, growing (1M,10M)")
    parser.add_argument("--model", type=Path, help="ONNX model (default: export one)")
    parser.add_argument("--samples", type=int, default=200, help="requests per measurement")
    parser.add_argument("--threads", type=int, default=2, help="server threads (2)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--existing", action="store_true", help="measure a kept database again (no fill; --keep)"
    )
    parser.add_argument("--quick", action="store_true", help="3,000 items, few samples (smoke)")
    parser.add_argument("--json", type=Path, help="result file (bench/results/scale.json)")
    args = parser.parse_args()
    if not args.pg:
        parser.error("--pg URL is needed (or COUNTERSCAN_TEST_PG_URL)")
    if args.quick:
        args.items, args.samples = "3000", min(args.samples, 10)
    sizes = [int(n) for n in args.items.split(",")]
    if sizes != sorted(sizes) or sizes[0] < 1000:
        parser.error("--items: growing sizes of at least 1000")

    from sqlalchemy import create_engine, text

    from counterscan.serve.storage import Store
    from counterscan.serve.storage.db import normalise_url

    admin_url = normalise_url(args.pg)
    db_url = admin_url.set(database=args.database)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    report: dict[str, Any] = {"machine": common.machine("sqlalchemy", "psycopg"), "sizes": []}
    if args.existing:
        args.keep, sizes = True, sizes[-1:]
    else:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{args.database}"'))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            model = args.model or export_model(root, args.quick)
            url = db_url.render_as_string(hide_password=False)
            Store(url, root / "store").open().close()  # the schema, by the migrations
            engine = create_engine(db_url)
            if not args.existing:
                scale_fill.histograms(engine, photo_histograms())
            done = sizes[-1] if args.existing else 0
            for n in sizes:
                if done < n:
                    print(f"\nfilling rows {done:,}..{n - 1:,}", flush=True)
                row: dict[str, Any] = {"items": n, "fill_s": None, "vacuum_analyze_s": None}
                if done < n:
                    row["fill_s"] = round(scale_fill.fill(engine, done, n), 3)
                    row["vacuum_analyze_s"] = round(scale_fill.analyze(engine), 1)
                row["database_mb"] = database_mb(engine)
                done = n
                row["plans"] = plans(engine)
                server = Server(model, root / f"srv-{n}", args.threads, db=url)
                try:
                    row.update(measure(server.url, engine, args.samples, n, root))
                    row["server_peak_rss_mb"] = round(server.peak_rss_mb(), 1)
                finally:
                    server.stop()
                report["sizes"].append(row)
                print_size(row)
            engine.dispose()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        admin.dispose()
    report["targets"] = targets(report)
    report["machine"]["load_average_end"] = common.load_average()
    for name, t in report["targets"].items():
        print(f"target {name}: {t}")
    common.write_result("scale", report, args.json)
    return 0


def export_model(root: Path, quick: bool) -> Path:
    mut = common.model_under_test(None, tiny=quick)
    return common.export_fp32(mut, root / "model.onnx", 2)


def photo_histograms() -> list[bytes]:
    """The float16 colour histograms of real (synthetic, photo-like) JPEGs' fingerprints."""
    from counterscan.images import decode_image
    from counterscan.serve.similar.fingerprint import fingerprint

    out = []
    for k in range(scale_fill.HISTOGRAMS):
        fp = fingerprint(decode_image(common.phone_jpeg(96, 72, seed=k)).rgb).to_bytes()
        out.append(fp[-128:])
    return out


def database_mb(engine: Any) -> float:
    from sqlalchemy import text

    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    return round(size / 2**20, 1)


def measure(base: str, engine: Any, samples: int, n: int, root: Path) -> dict[str, Any]:
    """p50/p99 of each request kind, one at a time."""
    from sqlalchemy import text

    from counterscan.serve.storage.queue import Position

    rng = random.Random()  # other items each run (a kept database is measured again)
    with engine.connect() as conn:
        deep = conn.execute(
            text(
                "SELECT priority_rank, score, created_at, id FROM items WHERE status = "
                "'unreviewed' AND priority_rank = 2 ORDER BY score DESC, created_at, id "
                "OFFSET :o LIMIT 1"
            ),
            {"o": n // 4},
        ).one()
    cursor = Position(deep[0], float(deep[1]), deep[2], deep[3]).token()
    step = scale_fill.VECTORS_EVERY
    candidates = [g for g in range(step, n, step) if g % scale_fill.REVIEWED_EVERY]
    picked = rng.sample(candidates, min(len(candidates), 2 * samples))
    with engine.connect() as conn:
        ids = [
            conn.execute(
                text(
                    "SELECT id FROM items WHERE sha256 = encode(sha256(int8send(CAST(:g AS bigint))), 'hex')"
                ),
                {"g": g},
            ).scalar_one()
            for g in picked
        ]
    photo = common.phone_jpeg(640, 480, seed=7)
    run = f"{time.time_ns():x}"  # new bytes every run: never answered from the store
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=120) as client:
        client.get("/v1/queue").raise_for_status()  # warm the pool
        out["queue_first_page"] = timed(samples, lambda i: client.get("/v1/queue?limit=50"))
        out["queue_deep_keyset"] = timed(
            samples, lambda i: client.get("/v1/queue", params={"limit": 50, "after": cursor})
        )
        out["queue_offset_10000"] = timed(
            max(3, samples // 10), lambda i: client.get("/v1/queue?limit=50&offset=10000")
        )
        out["item_read"] = timed(samples, lambda i: client.get(f"/v1/items/{ids[i]}"))
        half = len(ids) // 2
        out["verdict_counterfeit"] = timed(
            min(samples, half), lambda i: verdict(client, ids[i], "counterfeit")
        )
        out["verdict_genuine"] = timed(
            min(samples, half), lambda i: verdict(client, ids[half + i], "genuine")
        )
        out["score_one_jpeg"] = timed(
            samples,
            lambda i: client.post(
                "/v1/score",
                files={"image": ("p.jpg", common.unique_jpeg(photo, f"{run}-{i}"), "image/jpeg")},
            ),
        )
        page = client.get("/v1/queue?limit=1").json()
        out["queue_total"] = page["total"]
        out["queue_total_is_estimate"] = page["total_is_estimate"]
    return out


def verdict(client: httpx.Client, item_id: str, kind: str) -> httpx.Response:
    body = {"verdict": kind, "inspector": "bench", "note": "bench_scale"}
    return client.post(f"/v1/items/{item_id}/verdict", json=body)


def timed(n: int, request: Any) -> dict[str, Any]:
    ms = []
    for i in range(n):
        t0 = time.perf_counter()
        response = request(i)
        ms.append((time.perf_counter() - t0) * 1000)
        if response.status_code >= 400:
            raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    return common.latency_stats(ms)


def targets(report: dict[str, Any]) -> dict[str, Any]:
    biggest = report["sizes"][-1]
    out = {}
    for name in ("queue_first_page", "queue_deep_keyset", "verdict_counterfeit", "verdict_genuine"):
        p99 = biggest[name]["p99_ms"]
        out[f"{name}_p99_at_{biggest['items']}"] = {
            "target_ms": TARGET_P99_MS,
            "measured_ms": p99,
            "ratio": common.ratio(p99, TARGET_P99_MS),
        }
    return out


def print_size(row: dict[str, Any]) -> None:
    print(
        f"\n{row['items']:,} items: filled in {row['fill_s']} s, VACUUM ANALYZE {row['vacuum_analyze_s']} s, "
        f"database {row['database_mb']:,} MB, queue total {row['queue_total']:,} "
        f"(estimate: {row['queue_total_is_estimate']})"
    )
    kinds = [k for k, v in row.items() if isinstance(v, dict) and "p99_ms" in v]
    common.print_table(
        f"latency, one request at a time ({row['items']:,} items)",
        [{"request": k, **row[k]} for k in kinds],
        ["request", "n", "p50_ms", "p99_ms", "max_ms"],
    )
    for name, lines in row["plans"].items():
        print(f"\nEXPLAIN {name}:")
        for line in lines:
            print(f"  {line}")


if __name__ == "__main__":
    raise SystemExit(main())
