"""Bulk scoring on Ray: images/s of `counterscan score --ray` on a local cluster of 1 node and of
2 nodes (one CPU each, each node its own `ray start` on this machine, as in
tests/serve/offline/test_score_ray.py), next to the local path with one thread.

    .venv/bin/python bench/bench_ray.py [--images 600] [--model M.onnx | --checkpoint CKPT]

The same photo-like JPEGs (1024x768) and the same model in every run; each run is the real
command in a subprocess. Reported per run: the whole job, the fixed cost until the first batch
came back (actors started, model shipped and loaded), the steady rate after it (the other
images over the rest of the job), and per node the images per second of scoring work (decode +
model, from the command's `--json` summary), by wall time and by the actor's CPU time (the
latter does not depend on other load). Two local processes at once on half the photos each show
what the machine gives two busy processes.
Without a model the ImageNet-initialised network is exported at 224 px (needs the `train`
extra). Scores of every Ray run are checked against the local run's.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.helpers.ray_cluster

import common

from tests.helpers.ray_cluster import RayCluster


def command(model: Path, photos: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "counterscan", "score", str(model), str(photos), "--out", str(out),
        "--threads", "1", "--json", str(out.with_suffix(".json")), *extra,
    ]  # fmt: skip


def score(model: Path, photos: Path, out: Path, *extra: str) -> dict[str, Any]:
    """One run; a local one also gets the CPU seconds of its process (start-up included)."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        command(model, photos, out, *extra),
        check=True, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = json.loads(out.with_suffix(".json").read_text())
    summary["process_cpu_seconds"] = round(
        after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 3
    )
    return summary


def two_local(model: Path, halves: list[Path], work: Path, batch: int) -> dict[str, Any]:
    """Two local one-thread processes at once, each on half of the photos: what this machine
    gives two busy processes, without Ray."""
    start = time.perf_counter()
    procs = []
    for i, half in enumerate(halves):
        run = command(model, half, work / f"half{i}.csv", "--batch-size", str(batch))
        procs.append(subprocess.Popen(run, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    if any(p.wait() for p in procs):
        raise RuntimeError("a local run failed")
    seconds = time.perf_counter() - start
    images = sum(len(list(h.iterdir())) for h in halves)
    return {"images": images, "seconds": round(seconds, 3),
            "images_per_second": round(images / seconds, 2)}  # fmt: skip


def on_cluster(nodes: int, model: Path, photos: Path, out: Path, batch: int) -> dict[str, Any]:
    cluster = RayCluster(object_store_bytes=200_000_000)
    try:
        cluster.start_head(cpus=1)
        for _ in range(nodes - 1):
            cluster.add_node(cpus=1)
        return score(model, photos, out, "--batch-size", str(batch), "--ray", cluster.address)
    finally:
        cluster.stop()


def row(name: str, summary: dict[str, Any]) -> dict[str, Any]:
    ray = summary.get("ray", {})
    first = ray.get("first_batch_seconds", 0.0)
    seconds = ray.get("seconds", summary["seconds"])
    nodes = ray.get("nodes", {}).values()
    cpu = summary.get("process_cpu_seconds")
    return {
        "run": name,
        "images": summary["images"],
        "seconds": summary["seconds"],
        "images/s": summary["images_per_second"],
        "first batch s": first if ray else None,
        "steady images/s": (
            round((summary["images"] - ray["first_batch_images"]) / (seconds - first), 1)
            if ray
            else None
        ),
        "per node images/busy s": [n["images_per_busy_second"] for n in nodes] or None,
        "per node images/CPU s": [n["images_per_cpu_second"] for n in nodes]
        or (round(summary["images"] / cpu, 1) if cpu and not ray else None),
        "images per node": [n["images"] for n in nodes] or None,
    }


def max_score_difference(a: Path, b: Path) -> float:
    with a.open() as fa, b.open() as fb:
        rows_a, rows_b = list(csv.DictReader(fa)), list(csv.DictReader(fb))
    assert [r["path"] for r in rows_a] == [r["path"] for r in rows_b]
    return max(
        abs(float(x["score"]) - float(y["score"])) for x, y in zip(rows_a, rows_b, strict=True)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--model", type=Path, help="an exported ONNX model")
    parser.add_argument("--checkpoint", type=Path, help="export this checkpoint instead")
    parser.add_argument("--json", type=Path, help="result file (default bench/results/ray.json)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        work = Path(tmp)
        model = args.model or common.export_fp32(
            common.model_under_test(args.checkpoint), work / "model.onnx", threads=1
        )
        photos = work / "photos"
        halves = [photos / "a", photos / "b"]
        for half in halves:
            half.mkdir(parents=True)
        for i in range(args.images):
            jpeg = common.phone_jpeg(1024, 768, seed=i)
            (halves[i % 2] / f"{i:05d}.jpg").write_bytes(jpeg)
        load_before = common.load_average()
        local = score(model, photos, work / "local.csv", "--batch-size", str(args.batch_size))
        runs = [
            row("local, 1 thread", local),
            row("local, 2 processes x 1 thread", two_local(model, halves, work, args.batch_size)),
        ]
        differences = {}
        for nodes in (1, 2):
            out = work / f"ray{nodes}.csv"
            summary = on_cluster(nodes, model, photos, out, args.batch_size)
            runs.append(row(f"ray, {nodes} node(s) x 1 CPU", summary))
            differences[nodes] = max_score_difference(work / "local.csv", out)
        report = {
            "machine": common.machine("onnxruntime", "ray"),
            "load_average_before_after": [load_before, common.load_average()],
            "model": str(args.model or args.checkpoint or "ImageNet-initialised, 224 px"),
            "batch_size": args.batch_size,
            "runs": runs,
            "max_score_difference_to_local": differences,
        }
    common.print_table("counterscan score --ray", runs, list(runs[0]))
    print(f"max |score - local score|: {differences}")
    common.write_result("ray", report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
