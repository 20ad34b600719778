"""The benchmark scripts still run: each in --quick mode (tiny model, small images, short
scenarios) as the plain program a user runs, with its JSON checked for the figures the README
quotes. Temporary files go to tmp_path (TMPDIR), results to --json there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_script(name: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, str(BENCH / name), "--quick", "--json", str(out), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "target" in proc.stdout  # the table and the target lines were printed
    return json.loads(out.read_text())


def test_bench_model_quick(tmp_path: Path) -> None:
    report = run_script("bench_model.py", tmp_path, "--batches", "1,8")
    engines = {(r["engine"], r["batch"]) for r in report["rows"]}
    assert engines == {(e, b) for e in ("pytorch_eager", "ort_fp32", "ort_int8") for b in (1, 8)}
    assert all(r["images_per_s"] > 0 and r["p99_ms"] >= r["p50_ms"] for r in report["rows"])
    assert report["flops_per_image"] > 1e7  # EfficientNet-Lite0 at 64 px: ~0.06 GFLOP
    assert report["peak"]["matmul_fp32_gflops"] > 0
    assert {"fp32_vs_eager_batch1", "int8_vs_fp32_batch8"} <= set(report["targets"])


def test_bench_preprocess_quick(tmp_path: Path) -> None:
    report = run_script("bench_preprocess.py", tmp_path)
    kinds = {r["image"].split("_")[1] for r in report["rows"]}
    assert kinds == {"jpeg", "png", "heic"}
    methods = {r["method"] for r in report["rows"] if r["image"].startswith("phone_jpeg")}
    assert {"full", "reduced", "service prepare()"} <= methods
    reduced = next(
        r
        for r in report["rows"]
        if r["image"].startswith("phone_jpeg") and r["method"] == "reduced"
    )
    full = next(
        r for r in report["rows"] if r["image"].startswith("phone_jpeg") and r["method"] == "full"
    )
    # DCT scaling really decodes fewer pixels.
    assert reduced["decoded"] != full["decoded"]
    assert report["target_12MP"]["target_ms"] == 40.0


@pytest.mark.timeout(600)
def test_bench_service_quick(tmp_path: Path, onnx_model_path: Path) -> None:
    # Two model calls at once: the in-process side mirrors the server's arrangement.
    report = run_script(
        "bench_service.py", tmp_path, "--model", str(onnx_model_path), "--set", "model_calls=2"
    )
    assert report["settings"] == {"model_calls": "2"}
    runs = report["in_process"] + report["in_process_end"]  # before and after the scenarios
    assert {r["model_calls"] for r in runs} == {2} and len(runs) == 4
    best = max(r["images_per_s"] for r in runs if r["path"] == "decode + model")
    assert report["targets"]["batch_vs_in_process"]["images_per_s"][1] == best
    scenarios = report["scenarios"]
    assert {(s["batching"], s["endpoint"]) for s in scenarios} == {
        (b, e) for b in (True, False) for e in ("single", "batch")
    }
    assert all(s["images_ok"] > 0 and not s["errors"] for s in scenarios)
    assert all(s["cached"] == 0 for s in scenarios)  # every image really decoded and scored
    assert all(s["rss_mb"] > 0 for s in scenarios)
    assert [r["path"] for r in report["in_process"]] == ["decode + model", "prepare() + model"]
    assert set(report["targets"]) == {
        "batch_vs_in_process",
        "single_p99_8_clients_ms",
        "server_peak_rss_mb",
    }


@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_bench_sellers_scale_quick(tmp_path: Path, onnx_model_path: Path) -> None:
    """On the test PostgreSQL server: its own database, built, timed and dropped."""
    base = os.environ.get("COUNTERSCAN_TEST_PG_URL")
    if not base:
        pytest.skip("COUNTERSCAN_TEST_PG_URL is not set (run `export ...=$(.ci/postgres.sh)`)")
    name = f"counterscan_scale_test_{os.getpid()}"
    report = run_script(
        "bench_sellers_scale.py", tmp_path, "--model", str(onnx_model_path), "--db-name", name
    )
    assert report["rows"]["items"] == 20_000 and report["rows"]["sellers"] == 1_000
    assert report["rows"]["seller_risk"] == 1_000  # every seller's risk stored
    timed = {r["endpoint"]: r for r in report["rows_timed"]}
    assert {"sellers first page", "seller detail", "trends days=90", "alerts"} <= set(timed)
    assert all(r["n"] == 10 and r["p99_ms"] >= r["p50_ms"] > 0 for r in timed.values())
    assert report["targets"]["worst_p99_ms"]["target_max"] == 200.0
    assert report["write_path_record_listing"]["n"] == 10
    from sqlalchemy import create_engine, text

    from counterscan.serve.storage.db import normalise_url

    engine = create_engine(normalise_url(base))
    with engine.connect() as conn:  # dropped at the end (no --keep)
        left = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        assert left.first() is None
    engine.dispose()
