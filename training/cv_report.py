"""What `counterscan train --cv K` reports: per-fold test metrics, their mean and spread.

The spread is the sample standard deviation over folds (ddof=1): the folds are K draws of a
test set, and their scatter, not the scatter of K fixed numbers, is what a reader needs to
judge whether two settings differ.
"""

from __future__ import annotations

import statistics
from typing import Any

# fold-record key -> heading; the order of cv.md's columns and of the printed lines
CV_METRICS = {
    "roc_auc": "ROC-AUC",
    "average_precision": "AP",
    "accuracy": "accuracy",
    "ece": "ECE",
    "train_seconds": "training s",
}


def summarize_folds(folds: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """metric -> {mean, sd, min, max, n} over the folds where it is defined."""
    out: dict[str, dict[str, Any]] = {}
    for key in CV_METRICS:
        values = [f[key] for f in folds if f.get(key) is not None]
        out[key] = {
            "mean": statistics.fmean(values) if values else None,
            "sd": statistics.stdev(values) if len(values) >= 2 else None,
            "min": min(values, default=None),
            "max": max(values, default=None),
            "n": len(values),
        }
    return out


def _fmt(value: Any, key: str = "") -> str:
    if value is None:
        return "n/a"
    if key == "train_seconds":
        return f"{value:.1f}"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def render_cv_markdown(report: dict[str, Any]) -> str:
    config = report["config"]
    folds, summary = report["folds"], report["summary"]
    ignored = " (its own split ignored)" if report["dataset_split_ignored"] else ""
    lines = [
        f"# Cross-validation: {report['k']} group folds",
        "",
        f"- Data: `{report['data_dir']}`{ignored}",
        f"- Folds by group (a group's photos and copies of one photo stay in one fold), "
        f"stratified by label, seed {config['seed']}; validation = {config['val_fraction']} of "
        f"the other folds' groups; train_fraction {config['train_fraction']}.",
        f"- Image size {config['image_size']} px, at most {config['epochs']} epochs.",
        f"- Time: {report['total_seconds']} s for this command; the folds' own runs took "
        f"{report['folds_total_seconds']} s together.",
        "",
        "Test metrics of each fold's model (calibrated on its own validation photos), and over "
        "folds: mean, standard deviation (ddof=1), min and max.",
        "",
        "| fold | test photos (counterfeit) | test groups | train photos | "
        + " | ".join(CV_METRICS.values())
        + " | best epoch |",
        "|---" * (len(CV_METRICS) + 5) + "|",
    ]
    for f in folds:
        cells = [
            str(f["fold"]),
            f"{f['test']['photos']} ({f['test']['counterfeit']})",
            str(f["test"]["groups"]),
            str(f["train"]["photos"]),
            *(_fmt(f[key], key) for key in CV_METRICS),
            str(f["best_epoch"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    for stat in ("mean", "sd", "min", "max"):
        cells = [f"**{stat}**", "", "", "", *(_fmt(summary[k][stat], k) for k in CV_METRICS), ""]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def format_cv(report: dict[str, Any], paths: tuple[str, str]) -> str:
    """The few lines printed at the end: mean +- sd (min-max) per metric."""
    summary = report["summary"]
    lines = [f"{report['k']}-fold cross-validation by group -> {paths[0]}, {paths[1]}"]
    for key, name in CV_METRICS.items():
        s = summary[key]
        lines.append(
            f"  {name:<11} {_fmt(s['mean'], key)} +- {_fmt(s['sd'], key)} "
            f"(min {_fmt(s['min'], key)}, max {_fmt(s['max'], key)})"
        )
    lines.append(f"  total {report['total_seconds']} s")
    return "\n".join(lines)
