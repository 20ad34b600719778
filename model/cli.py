"""`counterscan export`: checkpoint -> checked ONNX artifact (optionally int8)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "export",
        help="export a training checkpoint to the ONNX model the service runs",
        description=(
            "Export CHECKPOINT to OUT.onnx: uint8 RGB input with the normalisation inside the "
            "graph, dynamic batch, outputs prob_counterfeit / embedding / cam, and the model "
            "contract in metadata_props. Every export is checked with the ONNX checker and "
            "against PyTorch with ONNX Runtime on two batch sizes. With --int8, OUT.onnx is a "
            "static QDQ int8 model calibrated on photos from --calibration DATA, and the report "
            "gives its AUC change against fp32 and its speed-up."
        ),
    )
    p.add_argument("checkpoint", type=Path, metavar="CHECKPOINT", help="checkpoint (.pt)")
    p.add_argument("out", type=Path, metavar="OUT.onnx", help="where to write the ONNX file")
    p.add_argument("--int8", action="store_true", help="quantize to int8 (needs --calibration)")
    p.add_argument(
        "--calibration",
        type=Path,
        metavar="DATA",
        help="dataset folder of photos for int8 calibration (its val split if any, else all)",
    )
    p.add_argument(
        "--threads", type=int, default=2, help="ONNX Runtime threads for checks (default 2)"
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    p.set_defaults(func=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from counterscan.model.export import export_from_checkpoint

    report = export_from_checkpoint(
        args.checkpoint,
        args.out,
        int8=args.int8,
        calibration=args.calibration,
        threads=args.threads,
    )
    print(format_report(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def format_report(report: dict[str, Any]) -> str:
    fp32 = report["fp32"]
    contract = report["contract"]
    diffs = ", ".join(f"{k} {v:.1e}" for k, v in fp32["parity"].items())
    lines = [
        f"wrote {report['path']} (model {contract['model_version']}, "
        f"input {contract['input_size']}px, temperature {contract['temperature']:.3f})",
        f"exporter: {fp32['exporter']}, opset {fp32['opset']}, {fp32['seconds']:.1f} s",
        f"parity vs PyTorch (batches {fp32['batch_sizes']}): max abs diff {diffs}",
        f"fp32 size: {fp32['size_bytes'] / 1e6:.1f} MB",
    ]
    int8 = report.get("int8")
    if int8:
        lines.append(
            f"int8 size: {int8['size_bytes'] / 1e6:.1f} MB, calibrated on "
            f"{int8['quantization']['calibration_images']} photos ({int8['calibration_source']})"
        )
        for batch, s in int8["speed"].items():
            lines.append(
                f"speed {batch}: fp32 {s['fp32_ms']} ms, int8 {s['int8_ms']} ms, "
                f"x{s['speedup']} ({int8['threads']} threads)"
            )
        if "auc" in int8:
            a = int8["auc"]
            lines.append(
                f"ROC-AUC on {a['n']} labelled photos: fp32 {a['fp32']:.4f}, "
                f"int8 {a['int8']:.4f} (change {a['change']:+.4f})"
            )
        agree = int8["agreement"]
        lines.append(
            f"probability change: mean {agree['prob_mean_abs_diff']}, max {agree['prob_max_abs_diff']}"
        )
        if int8["skipped_photos"]:
            lines.append(f"skipped {len(int8['skipped_photos'])} undecodable photos")
    return "\n".join(lines)
