"""Model benchmark: the same weights in PyTorch eager, ONNX Runtime fp32 and ONNX Runtime int8.

    .venv/bin/python bench/bench_model.py --checkpoint RUN/best.pt --data DATASET [--quick]

One run, one thread count for all three (default 2). Batches 1, 8 and 32; the engines take
turns call by call, so other work on the machine slows all of them alike. Reports images/s,
p50/p99 latency, achieved GFLOP/s (convolution and matmul FLOPs counted by PyTorch's
FlopCounterMode, a multiply-add = 2) next to the machine's peak: a large float32 matmul measured
in the same run (the practical peak) and the theoretical peak from the CPU flags and clock.
With --data (a dataset with a split), int8 is calibrated on train photos and both ONNX models
are compared by ROC-AUC on the val photos.

Without --checkpoint the ImageNet-initialised network is timed (same FLOPs, untrained head).
--sweep also times ONNX Runtime session options (ort_options.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# PyTorch's OpenMP threads spin-wait between operators by default; on two cores shared with other
# work that made eager batch-1 calls 3-4x slower (median 374 ms vs 83 ms at 224 px, same load).
# Passive waiting is the analogue of the service's ONNX Runtime setting (spinning off), so both
# engines are compared on equal terms. Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

TARGET_FP32_VS_EAGER = 4.0  # at batch 1
TARGET_INT8_VS_FP32 = 1.6
TARGET_AUC_CHANGE = 0.005
CALIBRATION_PHOTOS = 200
VAL_PHOTOS = 1000


def labelled_photos(root: Path, split: str, size: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, S, S, 3) uint8 model inputs and (N,) labels (1 = counterfeit) of one split, evenly
    picked when there are more than `cap`, decoded exactly as the service decodes."""
    from counterscan.datasets.reader import read_dataset
    from counterscan.errors import CounterscanError
    from counterscan.images import to_model_input

    samples = read_dataset(root, require_both=False).by_split(split)
    if not samples:
        raise CounterscanError(f"{root} has no {split} split: run `counterscan data split` first")
    picked = samples[:: max(1, len(samples) // cap)][:cap]
    images = np.stack([to_model_input(s.path.read_bytes(), size) for s in picked])
    return images, np.asarray([s.target for s in picked])


def flops_per_image(graph: Any, size: int) -> int:
    """Convolution + matmul FLOPs of one image through the serving graph."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros((1, size, size, 3), dtype=torch.uint8)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        graph(x)
    return int(counter.get_total_flops())


def matmul_peak(threads: int, n: int = 2048, repeats: int = 5) -> tuple[float, float]:
    """Practical peak: the best of `repeats` float32 n x n matmuls in ONNX Runtime (its MLAS
    GEMM, the kernels our model runs on; PyTorch's MKL takes slower paths on AMD CPUs),
    GFLOP/s with `threads` threads and with one thread (one core)."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    shape = [n, n]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "matmul",
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape) for x in ("a", "b")],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, shape)],
    )
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    data.ir_version = 8
    rng = np.random.default_rng(0)
    feeds = {x: rng.standard_normal(shape, dtype=np.float32) for x in ("a", "b")}
    out = []
    for t in (threads, 1):
        options = ort.SessionOptions()
        options.intra_op_num_threads = t
        session = ort.InferenceSession(
            data.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        session.run(None, feeds)
        best = min(_seconds(lambda s=session: s.run(None, feeds)) for _ in range(repeats))
        out.append(2 * n**3 / best / 1e9)
    return out[0], out[1]


def _seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_in_turns(
    engines: dict[Any, Callable[[np.ndarray], Any]], images: np.ndarray, seconds: float
) -> dict[Any, dict[str, list[float]]]:
    """Per engine, milliseconds per call: "wall" clock and "cpu" time of this process (all its
    threads; nothing spins, so it is the work done). The engines take turns until `seconds`
    have passed (and each has run at least 3 times). On cores shared with other work the wall
    time includes waiting for a core; the CPU time does not, so it is the steadier figure."""
    for fn in engines.values():  # warm-up: first calls allocate and pick kernels
        fn(images)
    times: dict[Any, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in engines}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or min(len(t["wall"]) for t in times.values()) < 3:
        for name, fn in engines.items():
            cpu = time.process_time()
            times[name]["wall"].append(1000 * _seconds(lambda fn=fn: fn(images)))
            times[name]["cpu"].append(1000 * (time.process_time() - cpu))
    return times


def build_engines(mut: common.ModelUnderTest, fp32: Path, int8: Path, threads: int) -> dict:
    import torch

    from counterscan.contract import INPUT_NAME
    from counterscan.model.export import ServingGraph
    from counterscan.serve.inference.model import Scorer, Threads

    torch.set_num_threads(threads)
    graph = ServingGraph(mut.model, mut.config, mut.contract.temperature).eval()

    def eager(x: np.ndarray) -> Any:
        with torch.inference_mode():
            return graph(torch.from_numpy(x))

    # The service's own sessions (Scorer.load): its optimisation level, threads, no spinning.
    sessions = {
        k: Scorer.load(p, Threads(threads)).session for k, p in (("fp32", fp32), ("int8", int8))
    }
    engines = {"pytorch_eager": eager}
    for name, session in sessions.items():
        engines[f"ort_{name}"] = lambda x, s=session: s.run(None, {INPUT_NAME: x})
    return {"graph": graph, "engines": engines}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="trained checkpoint (RUN/best.pt)")
    parser.add_argument("--data", type=Path, help="dataset with a train/val split (AUC check)")
    parser.add_argument("--threads", type=int, default=2, help="threads for every engine (2)")
    parser.add_argument("--batches", default="1,8,32", help="batch sizes (1,8,32)")
    parser.add_argument("--seconds", type=float, default=20.0, help="per batch size (20)")
    parser.add_argument("--sweep", action="store_true", help="also time ORT session options")
    parser.add_argument("--quick", action="store_true", help="tiny model, short runs (smoke)")
    parser.add_argument("--json", type=Path, help="result file (bench/results/model.json)")
    args = parser.parse_args()
    if args.quick:
        args.seconds = min(args.seconds, 1.0)
    from counterscan.model.parity import parity_images
    from counterscan.model.quantize import quantize_int8

    report: dict[str, Any] = {
        "machine": common.machine("torch", "onnxruntime"),
        "threads": args.threads,
    }
    mut = common.model_under_test(args.checkpoint, tiny=args.quick and args.checkpoint is None)
    size = mut.config.image_size
    report["model"] = {
        "source": mut.source,
        "input_size": size,
        "model_version": mut.contract.model_version,
    }
    with tempfile.TemporaryDirectory() as tmp:
        fp32_path = common.export_fp32(mut, Path(tmp) / "fp32.onnx", args.threads)
        int8_path = Path(tmp) / "int8.onnx"
        if args.data:
            calib, _ = labelled_photos(args.data, "train", size, CALIBRATION_PHOTOS)
            val, labels = labelled_photos(args.data, "val", size, VAL_PHOTOS)
        else:
            calib, val, labels = parity_images(16, size, seed=0), None, None
        q = quantize_int8(
            fp32_path,
            int8_path,
            calib,
            threads=args.threads,
            val_images=val,
            val_labels=labels,
            speed_repeats=1,
        )
        report["int8"] = {
            "calibration": f"{len(calib)} {'train photos' if args.data else 'synthetic images'}",
            "agreement": q["agreement"],
            "auc": q.get("auc"),
            "size_bytes": {"fp32": q["fp32_size_bytes"], "int8": q["size_bytes"]},
        }
        built = build_engines(mut, fp32_path, int8_path, args.threads)
        flops = flops_per_image(built["graph"], size)
        peak, peak_one_core = matmul_peak(args.threads, n=512 if args.quick else 2048)
        rows = []
        for batch in (int(b) for b in args.batches.split(",")):
            images = parity_images(batch, size, seed=batch)
            times = time_in_turns(built["engines"], images, args.seconds)
            for name, t in times.items():
                ips = batch * 1000 * len(t["wall"]) / sum(t["wall"])
                cpu_ms = sum(t["cpu"]) / len(t["cpu"]) / batch  # per image
                gflops = flops * ips / 1e9
                rows.append(
                    {
                        "engine": name,
                        "batch": batch,
                        **common.latency_stats(t["wall"]),
                        "images_per_s": round(ips, 1),
                        "cpu_ms_per_image": round(cpu_ms, 2),
                        "gflop_per_s": round(gflops, 1),
                        "pct_of_matmul_peak": round(100 * gflops / peak, 1),
                        "gflop_per_cpu_s": round(flops / cpu_ms / 1e6, 1),
                    }
                )
        if args.sweep:
            from ort_options import sweep

            report["ort_options"] = sweep(fp32_path, int8_path, size, args.threads, args.seconds)
    report["flops_per_image"] = flops
    report["peak"] = {
        "matmul_fp32_gflops": round(peak, 1),
        "matmul_fp32_gflops_one_core": round(peak_one_core, 1),
        **report["machine"]["peak"],
    }
    report["rows"] = rows
    report["targets"] = _targets(rows, report["int8"]["auc"])
    report["machine"]["load_average_end"] = common.load_average()
    _print(report)
    common.write_result("model", report, args.json)
    return 0


def _speedup(rows: list[dict[str, Any]], fast: str, slow: str, batch: int, target: float) -> dict:
    """`fast` over `slow` at one batch size, by wall-clock throughput and by CPU time per image."""
    by = {(r["engine"], r["batch"]): r for r in rows}
    wall = by[(fast, batch)]["images_per_s"] / by[(slow, batch)]["images_per_s"]
    cpu = by[(slow, batch)]["cpu_ms_per_image"] / by[(fast, batch)]["cpu_ms_per_image"]
    return {
        "wall": round(wall, 2),
        "cpu": round(cpu, 2),
        "target": target,
        "ratio_wall": common.ratio(wall, target),
        "ratio_cpu": common.ratio(cpu, target),
    }


def _targets(rows: list[dict[str, Any]], auc: dict[str, Any] | None) -> dict[str, Any]:
    batches = sorted({r["batch"] for r in rows})
    out: dict[str, Any] = {}
    if 1 in batches:
        out["fp32_vs_eager_batch1"] = _speedup(
            rows, "ort_fp32", "pytorch_eager", 1, TARGET_FP32_VS_EAGER
        )
    for batch in batches:
        out[f"int8_vs_fp32_batch{batch}"] = _speedup(
            rows, "ort_int8", "ort_fp32", batch, TARGET_INT8_VS_FP32
        )
    if auc:
        change = abs(auc["change"])
        out["auc_change"] = {
            "value": change,
            "target_max": TARGET_AUC_CHANGE,
            "met": change <= TARGET_AUC_CHANGE,
        }
    return out


def _print(report: dict[str, Any]) -> None:
    peak = report["peak"]
    print(
        f"\nmodel: {report['model']['source']}, {report['model']['input_size']} px, "
        f"{report['flops_per_image'] / 1e9:.3f} GFLOP/image, {report['threads']} threads"
    )
    print(
        f"peak: matmul {peak['matmul_fp32_gflops']} GFLOP/s measured "
        f"with {report['threads']} threads, {peak['matmul_fp32_gflops_one_core']} on one core; "
        f"theoretical "
        f"{peak['fp32_gflops']} GFLOP/s ({peak['formula']})"
    )
    cols = [
        "engine",
        "batch",
        "n",
        "images_per_s",
        "cpu_ms_per_image",
        "p50_ms",
        "p99_ms",
        "gflop_per_s",
        "pct_of_matmul_peak",
        "gflop_per_cpu_s",
    ]
    common.print_table("speed", report["rows"], cols)
    if report["int8"]["auc"]:
        print(f"\nROC-AUC on val: {report['int8']['auc']}")
    print(f"int8 agreement: {report['int8']['agreement']}")
    for name, t in report["targets"].items():
        print(f"target {name}: {t}")
    if "ort_options" in report:
        common.print_table(
            "ONNX Runtime session options (images/s)",
            report["ort_options"],
            list(report["ort_options"][0]),
        )
    print(
        f"load average start {report['machine']['load_average_start']} "
        f"end {report['machine']['load_average_end']}, pid {os.getpid()}"
    )


if __name__ == "__main__":
    sys.exit(main())
