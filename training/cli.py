"""`counterscan train` and `counterscan evaluate` (registered by counterscan.cli).

Only a few flags: every other setting has a documented default in training/config.py, chosen
to need no tuning on a few hundred to a few thousand photos.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

TRAIN_EPILOG = """\
Writes into RUN_DIR: best.pt, last.pt, metrics.jsonl (one line per epoch), split.csv,
model.onnx (calibrated, with thresholds), model_card.md and summary.json.
Distributed: torchrun --nproc_per_node N -m counterscan train DATA --out RUN_DIR
"""


def register(commands: argparse._SubParsersAction) -> None:
    from counterscan.training.config import TrainConfig  # torch-free

    train = commands.add_parser(
        "train",
        help="fine-tune the model on a labelled photo set and export it to ONNX",
        description="Fine-tune EfficientNet-Lite0 on DATA (a dataset folder), calibrate it, "
        "choose the priority thresholds on validation and export RUN_DIR/model.onnx.",
        epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("data", type=Path, metavar="DATA", help="dataset folder")
    train.add_argument("--out", type=Path, required=True, metavar="RUN_DIR", help="run folder")
    train.add_argument(
        "--epochs", type=int, help=f"maximum epochs (default {TrainConfig.epochs}; early stopping)"
    )
    train.add_argument(
        "--seed", type=int, help=f"random seed (default {TrainConfig.seed}); same seed, same model"
    )
    train.add_argument(
        "--image-size",
        type=int,
        help=f"input pixels, a multiple of 32 (default {TrainConfig.image_size})",
    )
    train.add_argument(
        "--resume", action="store_true", help="continue the run in RUN_DIR from its last.pt"
    )
    train.add_argument("--json", type=Path, metavar="FILE", help="also write the summary as JSON")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(func=_run_train)

    from counterscan.training import bootstrap  # numpy only

    evaluate = commands.add_parser(
        "evaluate",
        help="measure an ONNX model on labelled photos",
        description="Score the photos of DATA with MODEL.onnx through the service's own "
        "preprocessing and report ROC-AUC, AP, accuracy, calibration, precision@k, the "
        "priority bands and the confusion matrix.",
    )
    evaluate.add_argument("model", type=Path, metavar="MODEL.onnx")
    evaluate.add_argument("data", type=Path, metavar="DATA", help="dataset folder")
    evaluate.add_argument(
        "--split",
        choices=("train", "val", "test", "all"),
        help="train, val, test or all (default: test when the dataset has a split, else all)",
    )
    evaluate.add_argument("--json", type=Path, metavar="FILE", help="write the report as JSON")
    evaluate.add_argument("--plots", type=Path, metavar="DIR", help="write PNG plots into DIR")
    evaluate.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads (2)")
    evaluate.add_argument(
        "--bootstrap",
        type=int,
        default=bootstrap.RESAMPLES,
        metavar="N",
        help=f"group resamples for 95%% confidence intervals of ROC-AUC, AP and accuracy "
        f"(default {bootstrap.RESAMPLES}; 0 = none); photos of one group move together",
    )
    evaluate.add_argument(
        "--seed",
        type=int,
        default=bootstrap.SEED,
        help=f"bootstrap seed (default {bootstrap.SEED})",
    )
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.set_defaults(func=_run_evaluate)


def _write_json(path: Path | None, data: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _run_train(args: argparse.Namespace) -> int:
    from counterscan.training.config import TrainConfig
    from counterscan.training.summary import format_summary
    from counterscan.training.trainer import train

    overrides = {
        k: v
        for k, v in (("epochs", args.epochs), ("seed", args.seed), ("image_size", args.image_size))
        if v is not None
    }
    # With --resume the run's own settings apply; flags given are checked against them.
    config = TrainConfig(**overrides) if overrides or not args.resume else None
    summary = train(args.data, args.out, config, resume=args.resume, progress=not args.quiet)
    if summary:  # rank 0 only under torchrun
        print(format_summary(summary))
        _write_json(args.json, summary)
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    from counterscan.training.evaluate import evaluate_model, format_report

    report = evaluate_model(
        args.model,
        args.data,
        split=args.split,
        threads=args.threads,
        plots_dir=args.plots,
        progress=not args.quiet,
        resamples=args.bootstrap,
        seed=args.seed,
    )
    print(format_report(report))
    _write_json(args.json, report)
    return 0
