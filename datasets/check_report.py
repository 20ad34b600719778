"""What `data check` reports: its findings and settings, summary figures of a dataset (class
balance, groups, image sizes) and the text it prints. Kept apart from the checks themselves
(check.py): these only describe, they never judge.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field

from counterscan.dataset_format import LABELS, SPLITS
from counterscan.datasets.duplicates import CopyPair
from counterscan.datasets.fileinfo import FileInfo
from counterscan.datasets.neardup import NEAR_DUPLICATE_SIMILARITY
from counterscan.datasets.reader import Dataset

MAX_WARNINGS_SHOWN = 30  # errors are always all printed; --json has every finding
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class CheckSettings:
    min_side: int = 64  # photos with a shorter side (pixels) are reported as too small
    near_similarity: float = NEAR_DUPLICATE_SIMILARITY
    workers: int = 0  # processes for decoding and comparing; 0 = one per core
    progress: bool = True


@dataclass(frozen=True)
class Finding:
    path: str  # the photo's path as written in the manifest
    kind: str  # machine-readable, e.g. "truncated", "copy_across_splits"
    severity: str  # "error" | "warning"
    message: str
    related: tuple[str, ...] = ()  # other photos involved


@dataclass
class CheckReport:
    root: str
    has_manifest: bool
    photos: int  # manifest rows (or files found in the folder layout)
    files: int  # distinct files
    settings: CheckSettings
    findings: list[Finding] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def to_json(self) -> dict:
        return {
            "dataset": self.root,
            "has_manifest": self.has_manifest,
            "photos": self.photos,
            "files": self.files,
            "settings": asdict(self.settings),
            "near_duplicate_rule": (
                f"exact copies: same sha256; near copies: aligned high-pass correlation "
                f">= {self.settings.near_similarity}"
            ),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "seconds": round(self.seconds, 2),
            "stats": self.stats,
            "findings": [asdict(f) | {"related": list(f.related)} for f in self.findings],
        }


def _spread(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "median": 0, "max": 0}
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def dataset_stats(dataset: Dataset, infos: list[FileInfo], pairs: list[CopyPair]) -> dict:
    """Class balance (overall and per split), group sizes, image sizes and formats, copies."""
    samples = dataset.samples
    labels = Counter(s.label for s in samples)
    by_split: dict[str, dict[str, int]] = {}
    for split in (*SPLITS, ""):
        rows = [s for s in samples if s.split == split]
        if rows and dataset.has_split:
            counts = Counter(s.label for s in rows)
            by_split[split or "none"] = {label: counts[label] for label in LABELS}
    group_sizes = Counter(s.group_key for s in samples)
    named = Counter(s.group for s in samples if s.group)
    decoded = [i for i in infos if i.ok]
    return {
        "classes": {label: labels[label] for label in LABELS},
        "counterfeit_fraction": round(labels["counterfeit"] / max(1, len(samples)), 4),
        "splits": by_split,
        "groups": {
            "groups": len(group_sizes),
            "named_groups": len(named),
            "photos_without_group": sum(1 for s in samples if not s.group),
            "photos_per_group": _spread(sorted(group_sizes.values())),
        },
        "images": {
            "decoded": len(decoded),
            "width": _spread([i.width for i in decoded]),
            "height": _spread([i.height for i in decoded]),
            "formats": dict(Counter(i.format for i in decoded).most_common()),
            "megabytes": round(sum(i.n_bytes for i in infos) / 1e6, 1),
        },
        "copies": {
            "exact_pairs": sum(1 for p in pairs if p.exact),
            "near_pairs": sum(1 for p in pairs if not p.exact),
        },
    }


def _fmt(spread: dict[str, float]) -> str:
    return "/".join(f"{spread[k]:g}" for k in ("min", "median", "max"))


def format_report(report: CheckReport) -> str:
    """The human-readable report: summary first, then every error and the first warnings."""
    stats = report.stats
    total = max(1, report.photos)
    classes = ", ".join(f"{k} {v} ({v / total:.1%})" for k, v in stats["classes"].items())
    groups = stats["groups"]
    images = stats["images"]
    lines = [
        f"dataset: {report.root} ({'manifest.csv' if report.has_manifest else 'folders'}; "
        f"{report.photos} photos, {report.files} files, {images['megabytes']} MB)",
        f"classes: {classes}",
    ]
    for split, counts in stats["splits"].items():
        lines.append(f"  {split}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if not stats["splits"]:
        lines.append("  no split yet (make one with `counterscan data split`)")
    lines += [
        f"groups: {groups['groups']} ({groups['named_groups']} named, "
        f"{groups['photos_without_group']} photos without a group); photos per group "
        f"min/median/max {_fmt(groups['photos_per_group'])}",
        f"image sizes (min/median/max): width {_fmt(images['width'])}, "
        f"height {_fmt(images['height'])}; formats: "
        + (", ".join(f"{k} {v}" for k, v in images["formats"].items()) or "none"),
        f"copies: {stats['copies']['exact_pairs']} exact pairs (same sha256), "
        f"{stats['copies']['near_pairs']} near pairs (aligned high-pass similarity >= "
        f"{report.settings.near_similarity}); too small: short side < "
        f"{report.settings.min_side} px",
    ]
    errors, warnings = report.errors, report.warnings
    lines += [f"ERROR   {f.path}: {f.kind}: {f.message}" for f in errors]
    lines += [f"warning {f.path}: {f.kind}: {f.message}" for f in warnings[:MAX_WARNINGS_SHOWN]]
    if len(warnings) > MAX_WARNINGS_SHOWN:
        lines.append(
            f"... and {len(warnings) - MAX_WARNINGS_SHOWN} more warnings (--json FILE lists all)"
        )
    verdict = "FAILED" if errors else "ok"
    lines.append(
        f"{verdict}: {len(errors)} errors, {len(warnings)} warnings in {report.seconds:.1f} s"
    )
    return "\n".join(lines)
