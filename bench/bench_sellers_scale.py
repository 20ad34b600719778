"""Sellers, trends and alerts on a large PostgreSQL database: p50/p99 of each read endpoint of
a real `counterscan serve` (target: under 200 ms at 1,000,000 photos and 50,000 sellers).

    .venv/bin/python bench/bench_sellers_scale.py --pg-url postgresql://USER:PW@HOST/DB
        [--items 1000000] [--sellers 50000] [--days 90] [--requests 50] [--keep] [--quick]

It creates the database `--db-name` (counterscan_scale15) on that server (dropped at the end
unless --keep; an existing one is dropped first), builds the schema through the migrations,
fills it with set-based SQL (scale_data.py), computes the stored seller risk with the server's
own code (sellers.stored.backfill), starts the server on it and times each endpoint
sequentially (a few warm-up requests first). The PostgreSQL URL defaults to
COUNTERSCAN_TEST_PG_URL (its role needs CREATEDB).
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
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
import scale_data
from server_process import Server

TARGET_MS = 200.0


def _admin(url: str) -> Any:
    return create_engine(url, isolation_level="AUTOCOMMIT")


def create_database(base: str, name: str) -> str:
    """A fresh database `name` on the server of `base`; its URL."""
    from counterscan.serve.storage.db import normalise_url

    admin_url = normalise_url(base)
    engine = _admin(admin_url)
    quoted = engine.dialect.identifier_preparer.quote(name)
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {quoted}"))
    engine.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False)


def drop_database(base: str, name: str) -> None:
    from counterscan.serve.storage.db import normalise_url

    engine = _admin(normalise_url(base))
    quoted = engine.dialect.identifier_preparer.quote(name)
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    engine.dispose()


def build(url: str, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Schema by the migrations, rows by scale_data, stored risk by the server's code."""
    from counterscan.serve.sellers.service import backfill
    from counterscan.serve.storage import Store

    store = Store(url, root / "store").open()
    try:
        with store.write() as conn:
            took = scale_data.fill(
                conn, items=args.items, sellers=args.sellers, days=args.days, alerts=args.alerts
            )
            # Confirmed photos get a fingerprint (the server's similar cases load them on start;
            # without one it would look for evidence files this database does not have).
            conn.execute(
                text("UPDATE items SET fingerprint = :fp WHERE status = 'reviewed'"),
                {"fp": _fingerprint()},
            )
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        start = time.perf_counter()
        took["stored seller risk (backfill)"] = -1.0
        n = backfill(store)
        took["stored seller risk (backfill)"] = round(time.perf_counter() - start, 2)
        print(f"  stored seller risk for {n} sellers: {took['stored seller risk (backfill)']} s")
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # as autovacuum would by then
        with store.read() as conn:
            counts = {
                t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in ("items", "listings", "sellers", "verdicts", "alerts", "seller_risk")
            }
            picks = conn.execute(
                text("SELECT source, seller_id FROM seller_risk ORDER BY seller_ref")
            ).all()
    finally:
        store.close()
    return {"seconds": took, "rows": counts, "sellers": [tuple(p) for p in picks]}


def _fingerprint() -> bytes:
    import io

    import numpy as np
    from PIL import Image

    from counterscan.serve.similar.fingerprint import fingerprint

    photo = Image.open(io.BytesIO(common.phone_jpeg(320, 240, seed=15))).convert("RGB")
    return fingerprint(np.asarray(photo)).to_bytes()


def requests_to_time(built: dict[str, Any], n: int) -> dict[str, list[str]]:
    rng = random.Random(15)
    sellers = rng.sample(built["sellers"], min(n, len(built["sellers"])))
    deep = max(0, min(built["rows"]["sellers"] - 50, 10_000))
    return {
        "sellers first page": ["/v1/sellers"],
        "sellers source+min_risk": ["/v1/sellers?source=tiktok&min_risk=0.3"],
        f"sellers page at offset {deep}": [f"/v1/sellers?offset={deep}"],
        "seller detail": [f"/v1/sellers/{src or '-'}/{sid}" for src, sid in sellers],
        "trends days=7": ["/v1/trends?days=7"],
        "trends days=30": ["/v1/trends?days=30"],
        "trends days=90": ["/v1/trends?days=90"],
        "alerts": ["/v1/alerts"],
        "alerts open": ["/v1/alerts?acknowledged=false"],
    }


def measure(url: str, paths: list[str], n: int, warmup: int = 3) -> dict[str, Any]:
    times = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for k in range(warmup + n):
            path = paths[k % len(paths)]
            start = time.perf_counter()
            r = client.get(path)
            took = (time.perf_counter() - start) * 1000
            if r.status_code != 200:
                raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
            if k >= warmup:
                times.append(took)
    return common.latency_stats(times)


def write_path(url: str, root: Path, sellers: list[tuple[str, str]], n: int) -> dict[str, Any]:
    """In-process: record n new listings of existing sellers (a new photo each), as the scoring
    pipeline does: stored risk refresh, trend days, the four alert rules (surge included)."""
    from datetime import UTC, datetime

    from counterscan.serve.sellers.service import record
    from counterscan.serve.settings import Settings
    from counterscan.serve.storage import Store
    from counterscan.serve.storage.fields import new_item_id
    from counterscan.serve.storage.listings import ListingInput

    store = Store(url, root / "store").open()
    settings = Settings(model=None)
    rng = random.Random(7)
    times = []
    try:
        for k in range(n):
            item = new_item_id()
            with store.write() as conn:
                conn.execute(
                    text(
                        "INSERT INTO items (id, sha256, phash, score, priority, model_version, "
                        "source, created_at, width, height, priority_rank, status) VALUES "
                        "(:id, :sha, '0000000000000000', 0.95, 'high', 'bench-scale', :src, "
                        ":now, 640, 480, 0, 'unreviewed')"
                    ),
                    {"id": item, "sha": item * 2, "src": "", "now": datetime.now(UTC)},
                )
            source, seller_id = rng.choice(sellers)
            info = ListingInput(
                source, f"bench-new-{k}", seller_id=seller_id, category="category-03",
                title="N.i.k.e", text="zalo 0912345678",
            )  # fmt: skip
            start = time.perf_counter()
            record(store, settings, [(info, [item])])
            times.append((time.perf_counter() - start) * 1000)
    finally:
        store.close()
    return common.latency_stats(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("COUNTERSCAN_TEST_PG_URL"))
    parser.add_argument("--db-name", default="counterscan_scale15")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--sellers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--alerts", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=50, help="per endpoint (50)")
    parser.add_argument("--model", type=Path, help="ONNX model to serve (default: tiny export)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--quick", action="store_true", help="20,000 photos, 1,000 sellers")
    parser.add_argument("--json", type=Path, help="result file (bench/results/sellers_scale.json)")
    args = parser.parse_args()
    if not args.pg_url:
        parser.error("no PostgreSQL: give --pg-url or set COUNTERSCAN_TEST_PG_URL")
    if args.quick:
        args.items, args.sellers, args.alerts, args.requests = 20_000, 1_000, 300, 10
    report: dict[str, Any] = {
        "machine": common.machine("sqlalchemy", "psycopg", "httpx"),
        "shape": {"items": args.items, "sellers": args.sellers, "days": args.days},
    }
    url = create_database(args.pg_url, args.db_name)
    print(f"database {args.db_name}: building")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            built = build(url, root, args)
            report["build_seconds"], report["rows"] = built["seconds"], built["rows"]
            model = args.model
            if model is None:
                model = common.export_fp32(
                    common.model_under_test(None, tiny=True), root / "m.onnx", 2
                )
            server = Server(model, root / "srv", 1, db=url)
            try:
                # The first trends read counts the past days once and keeps them (trend_days).
                start = time.perf_counter()
                httpx.get(
                    f"{server.url}/v1/trends?days={args.days}", timeout=300
                ).raise_for_status()
                report["trends_first_read_ms"] = round((time.perf_counter() - start) * 1000, 1)
                print(
                    f"  first trends read (fills trend_days): {report['trends_first_read_ms']} ms"
                )
                report["rows_timed"] = [
                    {"endpoint": name, **measure(server.url, paths, args.requests)}
                    for name, paths in requests_to_time(built, args.requests).items()
                ]
            finally:
                server.stop()
            report["write_path_record_listing"] = write_path(
                url, root, built["sellers"], args.requests
            )
    finally:
        if not args.keep:
            drop_database(args.pg_url, args.db_name)
    worst = max(r["p99_ms"] for r in report["rows_timed"])
    report["targets"] = {
        "worst_p99_ms": {
            "value": worst,
            "target_max": TARGET_MS,
            "ratio": common.ratio(worst, TARGET_MS),
        }
    }
    report["machine"]["load_average_end"] = common.load_average()
    common.print_table(
        f"{args.items:,} photos, {args.sellers:,} sellers, {args.days} days, PostgreSQL "
        f"(sequential requests, {args.requests} each)",
        report["rows_timed"],
        ["endpoint", "n", "p50_ms", "p99_ms", "max_ms"],
    )
    print(
        f"\ntarget: every p99 < {TARGET_MS:.0f} ms; worst {worst:.1f} ms (ratio {common.ratio(worst, TARGET_MS)})"
    )
    w = report["write_path_record_listing"]
    print(f"record one listing (in-process): p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms")
    common.write_result("sellers_scale", report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
