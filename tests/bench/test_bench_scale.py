"""bench_scale.py still runs: --quick (3,000 items) against the test PostgreSQL server, in a
database of its own that it drops again; its JSON has every figure the README quotes."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from counterscan.serve.storage.db import normalise_url
from tests.helpers.pg_schema import PG_ENV

BENCH = Path(__file__).resolve().parents[2] / "bench"

REQUESTS = (
    "queue_first_page", "queue_deep_keyset", "queue_offset_10000", "item_read",
    "verdict_counterfeit", "verdict_genuine", "score_one_jpeg",
)  # fmt: skip


def run_scale(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "scale.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench_scale.py"), "--quick", "--json", str(out), *args],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "target" in proc.stdout
    return json.loads(out.read_text())


def test_bench_scale_quick(tmp_path: Path) -> None:
    pg = os.environ.get(PG_ENV)
    if not pg:
        pytest.skip(f"{PG_ENV} is not set (run `export {PG_ENV}=$(.ci/postgres.sh)`)")
    database = f"counterscan_bench_test_{secrets.token_hex(4)}"
    report = run_scale(tmp_path, "--pg", pg, "--database", database)

    (size,) = report["sizes"]
    assert size["items"] == 3000 and size["fill_s"] > 0 and size["database_mb"] > 0
    for name in REQUESTS:
        assert size[name]["n"] > 0 and size[name]["p99_ms"] >= size[name]["p50_ms"] > 0, name
    # ~3,000 queued: beyond the exact cap, so the planner's estimate, and labelled as one.
    assert 2400 < size["queue_total"] < 3600 and size["queue_total_is_estimate"] is True
    plan = "\n".join(size["plans"]["queue keyset page (after row 1,000)"])
    assert "ix_items_queue" in plan and "score <=" in plan  # the keyset seeks in the index
    assert "items_pkey" in "\n".join(size["plans"]["verdict: lock the item"])
    assert set(report["targets"]) >= {"queue_first_page_p99_at_3000", "verdict_genuine_p99_at_3000"}
    admin = create_engine(normalise_url(pg))
    with admin.connect() as conn:  # dropped: no --keep
        gone = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database})
        assert gone.first() is None
    admin.dispose()
