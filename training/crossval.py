"""`counterscan train DATA --out OUT --cv K`: K-fold cross-validation by group.

One split is one draw: on a few hundred test photos ROC-AUC moves by a few hundredths from one
split to the next. K folds give K measurements on disjoint test sets, and their spread.

    units (datasets.split: a group, one file, copies of one photo) -> K folds, stratified by
    label, seeded -> fold k: test = fold k, val = val_fraction of the other folds' units
    (stratified, seeded), train = the rest (then train_fraction) -> a normal run in
    OUT/fold-k -> OUT/cv.json, OUT/cv.md (cv_report.py)

The dataset's own split, if it has one, is ignored (a note says so): group folds never leak,
whatever the column says, and the column is often just what `counterscan data split` wrote.
Running the same command again continues: a fold whose run finished (summary.json) with the
same split and settings is reused, an interrupted one is resumed from its last.pt; a fold
folder holding another split or other settings stops the command.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from counterscan.datasets.reader import Dataset, Sample, read_dataset
from counterscan.datasets.split import SplitSettings, assign_units, find_units
from counterscan.errors import CounterscanError
from counterscan.training.config import TrainConfig
from counterscan.training.cv_report import render_cv_markdown, summarize_folds
from counterscan.training.rundir import RunDir, manifest_sha256, read_split, write_json
from counterscan.training.splitting import resolve_split

CV_JSON, CV_MD = "cv.json", "cv.md"
Log = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def plan_folds(
    dataset: Dataset, k: int, config: TrainConfig, progress: bool = False
) -> list[dict[str, str]]:
    """For each fold, path -> train/val/test (before train_fraction): whole units only."""
    if k < 2:
        raise CounterscanError(f"--cv needs at least 2 folds, got {k}")
    units = find_units(dataset, SplitSettings(seed=config.seed, progress=progress))
    per_label = Counter(label for counts in units.counts for label in counts)
    for label in sorted(per_label):
        if per_label[label] < k:
            raise CounterscanError(
                f"--cv {k} needs at least {k} groups of each class (a group's photos and copies "
                f"of one photo count once); the data has {per_label[label]} {label} group(s)"
            )
    names = [f"fold-{i}" for i in range(1, k + 1)]
    fold_of = assign_units(units.counts, dict.fromkeys(names, 1.0 / k), config.seed)
    plans = []
    for name in names:
        rest = [u for u, f in enumerate(fold_of) if f != name]
        carved = assign_units(
            [units.counts[u] for u in rest],
            {"train": 1.0 - config.val_fraction, "val": config.val_fraction},
            config.seed,
        )
        split_of = {u: "test" for u, f in enumerate(fold_of) if f == name}
        split_of.update(zip(rest, carved, strict=True))
        plans.append(
            {s.rel: split_of[u] for u, s in zip(units.of_sample, dataset.samples, strict=True)}
        )
    return plans


def _side_counts(samples: list[Sample], split: str) -> dict[str, int]:
    part = [s for s in samples if s.split == split]
    return {
        "photos": len(part),
        "counterfeit": sum(s.target for s in part),
        "groups": len({s.group_key for s in part}),
    }


def _run_fold(
    data_dir: Path,
    run: RunDir,
    config: TrainConfig,
    given: dict[str, str],
    samples: list[Sample],
    progress: bool,
) -> tuple[dict[str, Any], bool]:
    """The fold's summary, and whether an earlier invocation's finished run was reused."""
    from counterscan.training.trainer import train  # torch: only when training

    if not run.split.is_file() or not (run.last.is_file() or run.summary.is_file()):
        return train(data_dir, run.root, config, progress=progress, split=given), False
    if read_split(run.split) != {s.rel: s.split for s in samples}:
        raise CounterscanError(
            f"{run.root} holds a run of another split (other data, --cv, --seed or fractions); "
            "choose another --out"
        )
    if not run.summary.is_file():  # interrupted: continue it (the trainer checks the settings)
        return train(data_dir, run.root, config, resume=True, progress=progress), False
    summary = json.loads(run.summary.read_text(encoding="utf-8"))
    if summary.get("manifest_sha256") != manifest_sha256(samples):
        raise CounterscanError(
            f"{run.root} holds a run of other data (labels or groups changed); choose another --out"
        )
    diff = TrainConfig.from_dict(summary["training"]["config"]).differences(config)
    if diff:
        raise CounterscanError(
            f"{run.root} holds a run with other settings ({', '.join(diff)}); choose another --out"
        )
    return summary, True


def _fold_record(
    index: int, run: RunDir, samples: list[Sample], summary: dict[str, Any], reused: bool
) -> dict[str, Any]:
    test = summary["metrics"]["test"]
    training = summary["training"]
    return {
        "fold": index,
        "run_dir": str(run.root),
        "model_version": summary["model_version"],
        "reused": reused,
        **{side: _side_counts(samples, side) for side in ("train", "val", "test")},
        "roc_auc": test.get("roc_auc"),
        "average_precision": test.get("average_precision"),
        "accuracy": test.get("accuracy"),
        "ece": test.get("ece"),
        "best_epoch": training["best_epoch"],
        "epochs_run": training["epochs_run"],
        "train_seconds": training["train_seconds"],
        "total_seconds": summary["total_seconds"],
    }


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def cross_validate(
    data_dir: str | Path,
    out_dir: str | Path,
    k: int,
    config: TrainConfig | None = None,
    *,
    progress: bool = True,
    log: Log = _stderr,
) -> dict[str, Any]:
    """Train K group folds into out_dir/fold-1..K; returns cv.json's content (also written)."""
    started = time.perf_counter()
    config = config or TrainConfig()
    data_dir, out = Path(data_dir), Path(out_dir)
    dataset = read_dataset(data_dir)
    plans = plan_folds(dataset, k, config, progress)
    if dataset.has_split:
        log("note: --cv ignores the dataset's own split; each fold makes its own, by group")
    folds = []
    for index, given in enumerate(plans, start=1):
        run = RunDir(out / f"fold-{index}")
        try:
            samples = resolve_split(dataset, config, given=given)
            sides = {side: _side_counts(samples, side) for side in ("train", "val", "test")}
            shown = (
                f"{side} {c['photos']} photos ({c['groups']} groups)" for side, c in sides.items()
            )
            log(f"fold {index}/{k}: " + ", ".join(shown))
            summary, reused = _run_fold(data_dir, run, config, given, samples, progress)
        except CounterscanError as e:
            raise CounterscanError(f"fold {index}/{k}: {e}") from None
        record = _fold_record(index, run, samples, summary, reused)
        folds.append(record)
        log(
            f"fold {index}/{k}: test ROC-AUC {_f(record['roc_auc'])}, "
            f"AP {_f(record['average_precision'])}, accuracy {_f(record['accuracy'])}, "
            f"ECE {_f(record['ece'])}; best epoch {record['best_epoch']}, "
            f"training {record['train_seconds']} s{' (reused)' if reused else ''}"
        )
    report = {
        "data_dir": str(data_dir),
        "out_dir": str(out),
        "k": k,
        "dataset_split_ignored": dataset.has_split,
        "config": config.to_dict(),
        "folds": folds,
        "summary": summarize_folds(folds),
        "folds_total_seconds": round(sum(f["total_seconds"] for f in folds), 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / CV_JSON, report)
    (out / CV_MD).write_text(render_cv_markdown(report), encoding="utf-8")
    return report
