"""`counterscan train` and `counterscan evaluate` (registered by counterscan.cli).

Only a few flags: every other setting has a documented default in training/config.py, chosen
to need no tuning on a few hundred to a few thousand photos.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from counterscan.training.config import TrainConfig

TRAIN_EPILOG = """\
Writes into RUN_DIR: best.pt, last.pt, metrics.jsonl (one line per epoch), split.csv,
model.onnx (calibrated, with thresholds), model_card.md and summary.json.
Distributed: torchrun --nproc_per_node N -m counterscan train DATA --out RUN_DIR

--cv K: K folds by group (a group's photos and copies of one photo stay in one fold),
stratified by label, seeded; fold k tests on fold k, validates on val_fraction of the other
groups and trains on the rest, as a normal run in RUN_DIR/fold-k. Then RUN_DIR/cv.json and
cv.md: each fold's test ROC-AUC, AP, accuracy, ECE, and their mean, sd, min and max. The
dataset's own split is ignored. The same command again reuses finished folds and resumes an
interrupted one. Learning curve: --train-fraction 0.1, 0.25, 0.5, 1 (same val and test).
"""


def register(commands: argparse._SubParsersAction) -> None:
    from counterscan.model.backbones import BACKBONES  # torch-free
    from counterscan.training.config import TrainConfig  # torch-free

    train = commands.add_parser(
        "train",
        help="fine-tune the model on a labelled photo set and export it to ONNX",
        description="Fine-tune an EfficientNet-Lite on DATA (a dataset folder), calibrate it, "
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
        "--backbone",
        choices=BACKBONES,
        help=f"the ImageNet-pretrained network to fine-tune (default {TrainConfig.backbone}; "
        "the larger ones cost more CPU per photo, in training and in serving)",
    )
    train.add_argument(
        "--mirror",
        choices=("auto", "on", "off"),
        help="random left-right flips in training: on, off, or auto (default: on when the "
        "training photos already hold mirrored copies of each other; see training/README.md)",
    )
    train.add_argument(
        "--train-fraction",
        type=float,
        metavar="F",
        help="train on this share of the training groups, in (0, 1] (default "
        f"{TrainConfig.train_fraction}); validation and test photos stay the same",
    )
    train.add_argument(
        "--cv",
        type=int,
        metavar="K",
        help="K-fold cross-validation by group into RUN_DIR/fold-1..K, cv.json and cv.md",
    )
    train.add_argument(
        "--resume", action="store_true", help="continue the run in RUN_DIR from its last.pt"
    )
    train.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the summary (with --cv: cv.json)"
    )
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
    import os

    from counterscan.errors import CounterscanError
    from counterscan.training.config import TrainConfig

    flags = (
        ("epochs", args.epochs),
        ("seed", args.seed),
        ("image_size", args.image_size),
        ("backbone", args.backbone),
        ("train_fraction", args.train_fraction),
        ("mirror", args.mirror),
    )
    overrides = {k: v for k, v in flags if v is not None}
    if args.cv is not None:
        if args.resume:
            raise CounterscanError(
                "--cv and --resume do not go together: run the same --cv command again to "
                "continue it"
            )
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            raise CounterscanError("--cv runs in one process; start it without torchrun")
        return _run_cv(args, TrainConfig(**overrides))
    from counterscan.training.summary import format_summary
    from counterscan.training.trainer import train

    # With --resume the run's own settings apply; flags given are checked against them.
    config = TrainConfig(**overrides) if overrides or not args.resume else None
    summary = train(args.data, args.out, config, resume=args.resume, progress=not args.quiet)
    if summary:  # rank 0 only under torchrun
        print(format_summary(summary))
        _write_json(args.json, summary)
    return 0


def _run_cv(args: argparse.Namespace, config: TrainConfig) -> int:
    from counterscan.training.crossval import CV_JSON, CV_MD, cross_validate
    from counterscan.training.cv_report import format_cv

    report = cross_validate(args.data, args.out, args.cv, config, progress=not args.quiet)
    print(format_cv(report, (str(args.out / CV_JSON), str(args.out / CV_MD))))
    _write_json(args.json, report)
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
