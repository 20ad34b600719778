"""`counterscan data check`: find everything wrong with a labelled photo set before training.

Per file: missing, unreadable, zero-byte, non-image, truncated or too-large files (errors), photos
too small to use (warnings). Across files: the same photo (identical bytes or a near copy, see
`neardup`) on two sides of a split or with two different labels (errors, the leaks and label
noise that make metrics lie), other copies (warnings), groups split across train/val/test
(errors). Structural problems with the manifest itself (missing columns, unknown labels, paths
escaping the folder) stop the check with a one-line `CounterscanError` instead.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

from counterscan.dataset_format import SPLITS
from counterscan.datasets.check_report import (
    ERROR,
    WARNING,
    CheckReport,
    CheckSettings,
    Finding,
    dataset_stats,
)
from counterscan.datasets.duplicates import CopyPair, copy_clusters, find_copies
from counterscan.datasets.fileinfo import FileInfo, default_workers, inspect_files
from counterscan.datasets.reader import Dataset, Sample, read_dataset

_SHOWN_RELATED = 3  # related photos named in a message; the JSON lists all of them


def check_dataset(root: str | Path, settings: CheckSettings | None = None) -> CheckReport:
    """Read, decode and cross-check every photo of the dataset at `root`."""
    settings = settings or CheckSettings()
    started = time.perf_counter()
    dataset = read_dataset(root, require_files=False)
    workers = settings.workers or default_workers()
    paths = [s.path for s in dataset.samples]
    infos = inspect_files(paths, workers=workers, progress=settings.progress)
    files = list(dict.fromkeys(str(p) for p in paths))  # distinct files, first-seen order
    file_info = dict(zip((str(p) for p in paths), infos, strict=True))
    unique_infos = [file_info[f] for f in files]
    pairs = find_copies(
        unique_infos,
        threshold=settings.near_similarity,
        workers=workers,
        progress=settings.progress,
    )
    findings = [
        *_file_findings(dataset, file_info, settings.min_side),
        *_copy_findings(dataset, files, pairs),
        *_split_findings(dataset),
    ]
    return CheckReport(
        root=str(dataset.root),
        has_manifest=dataset.has_manifest,
        photos=len(dataset.samples),
        files=len(files),
        settings=settings,
        findings=sorted(findings, key=lambda f: (f.severity != ERROR, f.path, f.kind)),
        stats=dataset_stats(dataset, unique_infos, pairs),
        seconds=time.perf_counter() - started,
    )


def _file_findings(
    dataset: Dataset, file_info: dict[str, FileInfo], min_side: int
) -> list[Finding]:
    """One finding per file that cannot be used, or is too small to be useful."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for sample in dataset.samples:
        if str(sample.path) in seen:  # a file listed twice is reported once
            continue
        seen.add(str(sample.path))
        info = file_info[str(sample.path)]
        if not info.ok:
            findings.append(Finding(sample.rel, info.problem, ERROR, info.message))
        elif min(info.width, info.height) < min_side:
            message = f"{info.width}x{info.height} pixels, under {min_side} on its short side"
            findings.append(Finding(sample.rel, "too_small", WARNING, message))
    return findings


def _copy_findings(dataset: Dataset, files: list[str], pairs: list[CopyPair]) -> list[Finding]:
    """Findings for every set of rows that show the same photo (copies or one file listed twice)."""
    index = {f: i for i, f in enumerate(files)}
    rows_of: dict[int, list[Sample]] = defaultdict(list)
    for sample in dataset.samples:
        rows_of[index[str(sample.path)]].append(sample)
    clusters = copy_clusters(len(files), pairs)
    clustered = {i for c in clusters for i in c}
    clusters += [[i] for i, rows in rows_of.items() if len(rows) > 1 and i not in clustered]
    links = {(p.i, p.j): p for p in pairs}
    findings: list[Finding] = []
    for cluster in clusters:
        rows = [row for i in cluster for row in rows_of[i]]
        labels = sorted({r.label for r in rows})
        splits = [s for s in SPLITS if any(r.split == s for r in rows)]
        problems = []
        if len(labels) > 1:
            problems.append(("conflicting_labels", f"labelled {' and '.join(labels)}"))
        if len(splits) > 1:
            problems.append(("copy_across_splits", f"in {' and '.join(splits)} (a leak)"))
        for i in cluster:
            here, others = rows_of[i], [j for j in cluster if j != i]
            detail = _where(here, [(rows_of[j], links.get((min(i, j), max(i, j)))) for j in others])
            related = tuple(rows_of[j][0].rel for j in others)
            for kind, what in problems:
                message = f"the same photo is {what}: {detail}"
                findings.append(Finding(here[0].rel, kind, ERROR, message, related))
            if not problems:
                kind = "duplicate" if others else "listed_twice"
                findings.append(
                    Finding(here[0].rel, kind, WARNING, f"same photo: {detail}", related)
                )
    return findings


def _where(here: list[Sample], others: list[tuple[list[Sample], CopyPair | None]]) -> str:
    """'<label/split> here; <other path> (<label/split>; <how it is a copy>); ...'"""
    if len(here) == 1:
        parts = [f"{_labels_splits(here)} here"]
    else:
        parts = [f"listed {len(here)} times here ({_labels_splits(here)})"]
    parts += [_describe(rows, link) for rows, link in others[:_SHOWN_RELATED]]
    if len(others) > _SHOWN_RELATED:
        parts.append(f"and {len(others) - _SHOWN_RELATED} more")
    return "; ".join(parts)


def _labels_splits(rows: list[Sample]) -> str:
    return ", ".join(f"{r.label}" + (f"/{r.split}" if r.split else "") for r in rows)


def _describe(rows: list[Sample], link: CopyPair | None) -> str:
    if link is None:
        how = "copy of a copy"
    elif link.exact:
        how = "identical bytes"
    else:
        how = f"near copy, similarity {link.similarity:.3f}"
    return f"{rows[0].rel} ({_labels_splits(rows)}; {how})"


def _split_findings(dataset: Dataset) -> list[Finding]:
    """Errors for groups spread over several splits; warnings for rows left out of the split."""
    findings: list[Finding] = []
    if dataset.has_split:
        for row in dataset.samples:
            if not row.split:
                message = "no split while other photos have one; it is left out of all three"
                findings.append(Finding(row.rel, "no_split", WARNING, message))
    members: dict[str, list[Sample]] = defaultdict(list)
    for sample in dataset.samples:
        if sample.group and sample.split:
            members[sample.group].append(sample)
    for group, rows in sorted(members.items()):
        counts: dict[str, int] = defaultdict(int)
        for row in rows:
            counts[row.split] += 1
        if len(counts) < 2:
            continue
        # the side holding most of the group stays; the photos elsewhere are the ones to move
        main = max(sorted(counts), key=lambda s: counts[s])
        spread = ", ".join(f"{counts[s]} in {s}" for s in sorted(counts))
        for row in rows:
            if row.split != main:
                related = tuple(r.rel for r in rows if r.split != row.split)
                message = f"group {group!r} is split ({spread}); this photo is in {row.split}"
                findings.append(Finding(row.rel, "group_across_splits", ERROR, message, related))
    return findings
