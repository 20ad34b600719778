"""Does a trained model score the product or the setting it was photographed in?

    python scripts/occlusion_check.py RUN DATA [--split test] [--json OUT]

RUN is a training run folder (model.onnx and split.csv, the photos that run held out); DATA
the dataset folder the paths in split.csv are relative to. The held-out photos are scored as
the service scores them, then again with parts of the model input painted over with the
photo's mean colour: the middle hidden (what is left is mostly the setting, plus the product's
ends when it fills the frame), the border hidden, and only the four corners kept (in listing
photos nearly always background). A model that ranks well from the corners alone has learned
the sellers' settings, which a split by source photo does not rule out: one seller's photos can
fall on both sides. Results for sneakers-nike are in training/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from counterscan.images import ImageDecodeError, to_model_input
from counterscan.serve.inference.model import Scorer, Threads
from counterscan.training.metrics import accuracy, average_precision, roc_auc

Mask = Callable[[int], np.ndarray]  # input side -> (S, S) bool, True = painted over


def middle(share: float) -> Mask:
    """The centred square of `share` of the side."""

    def mask(side: int) -> np.ndarray:
        out = np.zeros((side, side), bool)
        a = round(side * (1 - share) / 2)
        out[a : side - a, a : side - a] = True
        return out

    return mask


def border(keep: float) -> Mask:
    """Everything but the centred square of `keep` of the side."""
    return lambda side: ~middle(keep)(side)


def all_but_corners(share: float) -> Mask:
    """Everything but the four corner squares of `share` of the side."""

    def mask(side: int) -> np.ndarray:
        out = np.ones((side, side), bool)
        k = round(side * share)
        for rows in (slice(0, k), slice(side - k, side)):
            for cols in (slice(0, k), slice(side - k, side)):
                out[rows, cols] = False
        return out

    return mask


VARIANTS: dict[str, Mask | None] = {
    "as served": None,
    "middle 60% hidden": middle(0.6),
    "middle 40% hidden": middle(0.4),
    "border hidden, middle 80% kept": border(0.8),
    "border hidden, middle 60% kept": border(0.6),
    "corners only, 20% of the side": all_but_corners(0.2),
    "corners only, 12.5% of the side": all_but_corners(0.125),
}


def painted(images: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) uint8 -> a copy with `mask` painted in each photo's mean colour."""
    out = images.copy()
    mean = images.reshape(len(images), -1, 3).mean(axis=1).round().astype(np.uint8)  # (N, 3)
    out[:, mask] = mean[:, None, :]
    return out


def check(run: Path, data: Path, split: str = "test", batch: int = 16) -> dict[str, object]:
    with (run / "split.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == split]
    if not rows:
        raise SystemExit(f"error: {run / 'split.csv'} has no photos in split {split!r}")
    scorer = Scorer.load(run / "model.onnx", Threads(2))
    side = scorer.input_size
    labels = np.array([r["label"] == "counterfeit" for r in rows], dtype=float)
    images = np.stack([to_model_input((data / r["path"]).read_bytes(), side) for r in rows])
    results: dict[str, dict[str, float | None]] = {}
    for name, mask in VARIANTS.items():
        shown = images if mask is None else painted(images, mask(side))
        probs = np.concatenate(
            [scorer.score(shown[i : i + batch]).prob for i in range(0, len(shown), batch)]
        )
        results[name] = {
            "roc_auc": _round(roc_auc(labels, probs)),
            "average_precision": _round(average_precision(labels, probs)),
            "accuracy": _round(accuracy(labels, probs)),
        }
    return {"split": split, "photos": len(rows), "counterfeit": int(labels.sum()), **results}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="training run folder (model.onnx, split.csv)")
    parser.add_argument("data", type=Path, help="the dataset folder of that run")
    parser.add_argument("--split", default="test", help="which photos of split.csv (test)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    for needed in (args.run / "model.onnx", args.run / "split.csv"):
        if not needed.is_file():
            print(f"error: {needed} is missing: RUN must be a training run folder", file=sys.stderr)
            return 2
    try:
        report = check(args.run, args.data, args.split)
    except (OSError, ImageDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{report['photos']} {args.split} photos, {report['counterfeit']} counterfeit")
    print(f"{'shown to the model':34s} ROC-AUC     AP  accuracy")
    for name in VARIANTS:
        r = report[name]
        assert isinstance(r, dict)
        print(f"{name:34s} {r['roc_auc']!s:>7} {r['average_precision']!s:>6} {r['accuracy']!s:>9}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
