"""Read a labelled photo set in either layout of DESIGN.md.

Layout 1: `manifest.csv` with columns `path,label` (and optionally `split`, `group`, anything else).
Layout 2: no manifest; `genuine/` and `counterfeit/` folders, optionally under `train/`, `val/`,
`test/`. Labels accept synonyms (`real`, `authentic` -> genuine; `fake` -> counterfeit).

Every problem is a `CounterscanError` with a one-line message that names the file or row.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from counterscan.dataset_format import (
    LABEL_SYNONYMS,
    LABELS,
    MANIFEST,
    SPLIT_SYNONYMS,
)
from counterscan.errors import CounterscanError
from counterscan.formats import IMAGE_SUFFIXES


@dataclass
class Sample:
    path: Path  # absolute, resolved, inside the dataset folder
    rel: str  # path as written in the manifest (or relative to the root), POSIX style
    label: str  # "genuine" | "counterfeit"
    split: str = ""  # "" when the dataset has no split, else train/val/test
    group: str = ""  # photos that must stay on one side of every split; "" = its own group
    extra: dict[str, str] = field(default_factory=dict)  # other manifest columns, kept as is

    @property
    def target(self) -> int:
        """1 for counterfeit (the positive class), 0 for genuine."""
        return int(self.label == "counterfeit")

    @property
    def group_key(self) -> str:
        return self.group or f"__file__:{self.rel}"


@dataclass
class Dataset:
    root: Path
    samples: list[Sample]
    has_manifest: bool
    extra_columns: list[str] = field(default_factory=list)

    @property
    def has_split(self) -> bool:
        return any(s.split for s in self.samples)

    def by_split(self, split: str) -> list[Sample]:
        return [s for s in self.samples if s.split == split]

    def label_counts(self) -> Counter[str]:
        return Counter(s.label for s in self.samples)


def normalise_label(value: str, where: str) -> str:
    label = LABEL_SYNONYMS.get(value.strip().lower())
    if label is None:
        raise CounterscanError(
            f"{where}: unknown label {value!r} (use genuine/counterfeit; real, authentic, fake also accepted)"
        )
    return label


def _normalise_split(value: str, where: str) -> str:
    value = value.strip().lower()
    if not value:
        return ""
    split = SPLIT_SYNONYMS.get(value)
    if split is None:
        raise CounterscanError(f"{where}: unknown split {value!r} (use train, val or test)")
    return split


def resolve_inside(root: Path, rel: str, where: str) -> Path:
    """Resolve `rel` against `root`, refusing absolute paths and paths that escape the folder."""
    if not rel.strip():
        raise CounterscanError(f"{where}: empty path")
    candidate = Path(rel)
    if candidate.is_absolute():
        raise CounterscanError(
            f"{where}: path {rel!r} is absolute; paths must be relative to the dataset folder"
        )
    resolved = (root / candidate).resolve()
    if not resolved.is_relative_to(root):
        raise CounterscanError(f"{where}: path {rel!r} escapes the dataset folder")
    return resolved


def read_dataset(
    root: str | Path, *, require_files: bool = True, require_both: bool = True
) -> Dataset:
    """Read a dataset folder. `require_both`: fail when a class has no photos."""
    root = Path(root)
    if not root.is_dir():
        raise CounterscanError(f"dataset folder {root} does not exist")
    root = root.resolve()
    if (root / MANIFEST).is_file():
        dataset = _read_manifest(root, require_files)
    else:
        dataset = _read_folders(root)
    if not dataset.samples:
        raise CounterscanError(
            f"{root}: no photos found (no {MANIFEST} and no genuine/ or counterfeit/ folders)"
        )
    if require_both:
        counts = dataset.label_counts()
        for label in LABELS:
            if counts[label] == 0:
                raise CounterscanError(f"{root}: class {label!r} has no photos")
    return dataset


def _read_manifest(root: Path, require_files: bool) -> Dataset:
    manifest = root / MANIFEST
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CounterscanError(f"{manifest}: not UTF-8 text") from None
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in ("path", "label") if c not in columns]
    if missing:
        raise CounterscanError(
            f"{manifest}: missing column(s) {', '.join(missing)} (found: {', '.join(columns) or 'none'})"
        )
    extra_columns = [c for c in columns if c not in ("path", "label", "split", "group")]
    samples = []
    for line_no, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        where = f"{manifest.name} line {line_no}"
        if not any(row.values()):
            continue
        rel = row["path"].replace("\\", "/")
        path = resolve_inside(root, rel, where)
        if require_files and not path.is_file():
            raise CounterscanError(f"{where}: file {rel!r} does not exist")
        samples.append(
            Sample(
                path=path,
                rel=rel,
                label=normalise_label(row["label"], where),
                split=_normalise_split(row.get("split", ""), where),
                group=row.get("group", ""),
                extra={c: row.get(c, "") for c in extra_columns},
            )
        )
    return Dataset(root=root, samples=samples, has_manifest=True, extra_columns=extra_columns)


def _read_folders(root: Path) -> Dataset:
    """genuine/ and counterfeit/ (synonyms allowed), optionally under train/ val/ test/."""
    samples: list[Sample] = []
    split_dirs = [
        d for d in sorted(root.iterdir()) if d.is_dir() and d.name.lower() in SPLIT_SYNONYMS
    ]
    bases = [(SPLIT_SYNONYMS[d.name.lower()], d) for d in split_dirs] or [("", root)]
    for split, base in bases:
        for label_dir in sorted(base.iterdir()):
            if not label_dir.is_dir() or label_dir.name.lower() not in LABEL_SYNONYMS:
                continue
            label = LABEL_SYNONYMS[label_dir.name.lower()]
            for path in sorted(label_dir.rglob("*")):
                if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                    samples.append(
                        Sample(
                            path=path.resolve(),
                            rel=path.relative_to(root).as_posix(),
                            label=label,
                            split=split,
                        )
                    )
    return Dataset(root=root, samples=samples, has_manifest=False)


def write_manifest(dataset: Dataset, path: Path | None = None) -> Path:
    """Write `manifest.csv` (path,label,split,group,+extra columns) for the dataset's samples."""
    path = path or dataset.root / MANIFEST
    columns = ["path", "label", "split", "group", *dataset.extra_columns]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for s in dataset.samples:
            writer.writerow(
                [
                    s.rel,
                    s.label,
                    s.split,
                    s.group,
                    *(s.extra.get(c, "") for c in dataset.extra_columns),
                ]
            )
    return path
