"""`counterscan data split`: a train/val/test split by group, stratified by label, leak-free.

1. Units: photos that must stay together. Photos of one `group`, rows naming the same file, and
   copies of one photo (identical bytes or near copies, see `neardup`) are merged with
   union-find, so a re-upload of a photo under another group still lands on the same side.
2. Assignment: units are shuffled with the seed, then taken largest first; each goes to the
   split that is furthest (relatively) below its target for the unit's labels. Big units placed
   first leave small ones to even out the counts; the result is deterministic per seed.
3. The split is written into the manifest (the old one kept as manifest.csv.bak), or, with
   `out`, into a new dataset folder (for datasets in read-only places).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from counterscan.dataset_format import LABELS, MANIFEST, SPLITS
from counterscan.datasets.duplicates import UnionFind, find_copies
from counterscan.datasets.fileinfo import default_workers, inspect_files
from counterscan.datasets.neardup import NEAR_DUPLICATE_SIMILARITY
from counterscan.datasets.reader import Dataset, Sample, read_dataset, write_manifest
from counterscan.errors import CounterscanError


@dataclass(frozen=True)
class SplitSettings:
    val: float = 0.15  # fraction of photos (per label) for validation
    test: float = 0.15  # fraction of photos (per label) for the test set
    seed: int = 0
    near_similarity: float = NEAR_DUPLICATE_SIMILARITY
    workers: int = 0  # 0 = one per core
    progress: bool = True


@dataclass
class SplitResult:
    dataset: Dataset  # samples with their new split
    units: int  # sets of photos kept together
    groups: int  # groups as named in the data (photos without a group count one each)
    merged_by_copies: int  # units joining several groups (a photo they share, or one file)
    undecodable: list[str] = field(default_factory=list)  # kept, but not compared for copies
    manifest: Path | None = None
    backup: Path | None = None

    def counts(self) -> dict[str, dict[str, int]]:
        table = {s: dict.fromkeys(LABELS, 0) for s in SPLITS}
        for sample in self.dataset.samples:
            table[sample.split][sample.label] += 1
        return table

    def to_json(self) -> dict:
        return {
            "dataset": str(self.dataset.root),
            "manifest": str(self.manifest) if self.manifest else None,
            "backup": str(self.backup) if self.backup else None,
            "photos": len(self.dataset.samples),
            "groups": self.groups,
            "units": self.units,
            "merged_by_copies": self.merged_by_copies,
            "undecodable": self.undecodable,
            "counts": self.counts(),
        }


def check_fractions(val: float, test: float) -> None:
    for name, value in (("--val", val), ("--test", test)):
        if not 0.0 <= value < 1.0:
            raise CounterscanError(f"{name} must be a fraction in [0, 1), got {value}")
    if val + test >= 1.0:
        raise CounterscanError(f"--val + --test must leave photos for training, got {val + test}")
    if val == 0.0 and test == 0.0:
        raise CounterscanError("--val and --test are both 0: nothing to split off")


def assign_units(
    unit_counts: list[Counter[str]], fractions: dict[str, float], seed: int
) -> list[str]:
    """Bin name for each unit (given its photos per label), stratified by label.

    fractions: bin name -> share, in tie-break order (train/val/test here; K folds for
    `counterscan train --cv`). Pure and deterministic: the same counts, fractions and seed give
    the same answer.
    """
    totals: Counter[str] = Counter()
    for counts in unit_counts:
        totals.update(counts)
    splits = [s for s, share in fractions.items() if share > 0.0]
    target = {s: {label: fractions[s] * totals[label] for label in totals} for s in splits}
    filled = {s: Counter[str]() for s in splits}
    order = list(range(len(unit_counts)))
    random.Random(seed).shuffle(order)
    order.sort(key=lambda u: -sum(unit_counts[u].values()))  # stable: ties keep seeded order
    chosen = [""] * len(unit_counts)
    for u in order:
        counts = unit_counts[u]

        def need(split: str, counts: Counter[str] = counts) -> float:
            """How far below target this split is, for this unit's labels (relative)."""
            return sum(
                n * (target[split][label] - filled[split][label]) / max(target[split][label], 1e-9)
                for label, n in counts.items()
            )

        best = max(splits, key=lambda s: (need(s), fractions[s]))
        chosen[u] = best
        filled[best].update(counts)
    return chosen


@dataclass
class Units:
    """Sets of photos that must stay on one side of any split (see the module docstring)."""

    of_sample: list[int]  # unit index of each sample, in the dataset's order
    counts: list[Counter[str]]  # photos per label, per unit
    groups: int  # groups as named in the data (photos without a group count one each)
    merged_by_copies: int  # units joining several groups
    undecodable: list[str]  # kept, but not compared for copies


def find_units(dataset: Dataset, settings: SplitSettings) -> Units:
    """Union-find over the samples: one group, one file, or copies of one photo -> one unit."""
    samples = dataset.samples
    files = list(dict.fromkeys(str(s.path) for s in samples))
    file_index = {f: i for i, f in enumerate(files)}
    workers = settings.workers or default_workers()
    infos = inspect_files(files, workers=workers, progress=settings.progress)
    pairs = find_copies(
        infos, threshold=settings.near_similarity, workers=workers, progress=settings.progress
    )
    sets = UnionFind(len(samples))
    first_of: dict[str, int] = {}
    by_file: dict[int, int] = {}
    for k, sample in enumerate(samples):
        for key, seen in ((sample.group_key, first_of), (file_index[str(sample.path)], by_file)):
            if key in seen:
                sets.union(seen[key], k)
            else:
                seen[key] = k
    for pair in pairs:
        sets.union(by_file[pair.i], by_file[pair.j])
    roots = sorted({sets.find(k) for k in range(len(samples))})
    unit_of = {root: u for u, root in enumerate(roots)}
    of_sample = [unit_of[sets.find(k)] for k in range(len(samples))]
    unit_counts: list[Counter[str]] = [Counter() for _ in roots]
    groups_in_unit: list[set[str]] = [set() for _ in roots]
    for u, sample in zip(of_sample, samples, strict=True):
        unit_counts[u][sample.label] += 1
        groups_in_unit[u].add(sample.group_key)
    return Units(
        of_sample=of_sample,
        counts=unit_counts,
        groups=len(first_of),
        merged_by_copies=sum(1 for g in groups_in_unit if len(g) > 1),
        undecodable=[s.rel for s in samples if not infos[file_index[str(s.path)]].ok],
    )


def plan_split(dataset: Dataset, settings: SplitSettings) -> SplitResult:
    """Compute the split (no writing): samples of the returned dataset carry their split."""
    check_fractions(settings.val, settings.test)
    units = find_units(dataset, settings)
    fractions = {"train": 1.0 - settings.val - settings.test, "val": settings.val}
    fractions["test"] = settings.test
    chosen = assign_units(units.counts, fractions, settings.seed)
    new_samples = [
        replace(s, split=chosen[u]) for u, s in zip(units.of_sample, dataset.samples, strict=True)
    ]
    return SplitResult(
        dataset=replace(dataset, samples=new_samples),
        units=len(units.counts),
        groups=units.groups,
        merged_by_copies=units.merged_by_copies,
        undecodable=units.undecodable,
    )


def split_dataset(
    root: str | Path, settings: SplitSettings, out: Path | None = None
) -> SplitResult:
    """Split the dataset at `root` and write it (in place, or as a new dataset under `out`)."""
    dataset = read_dataset(root)
    if out is None:
        _require_writable(dataset.root)
    else:
        out = _prepare_out(dataset.root, Path(out))
    result = plan_split(dataset, settings)
    if out is None:
        result.manifest, result.backup = _write_in_place(result.dataset)
    else:
        result.manifest = _write_copy(result.dataset, out)
    return result


def _writable(path: Path) -> bool:
    """Writable for us *and* not marked read-only: root may write anywhere, but a folder whose
    mode has no write bit (a shared, read-only data set) is left alone even then."""
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def _require_writable(root: Path) -> None:
    manifest = root / MANIFEST
    if not _writable(root) or (manifest.exists() and not _writable(manifest)):
        raise CounterscanError(
            f"{root} is read-only; use --out DIR to write the split dataset elsewhere"
        )


def _prepare_out(root: Path, out: Path) -> Path:
    out = out.resolve()
    if out == root or out.is_relative_to(root):
        raise CounterscanError(f"--out {out} is inside the dataset; choose a folder outside it")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CounterscanError(f"--out {out} exists and is not an empty folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CounterscanError(f"cannot create {out}: {e.strerror or e}") from None
    return out


def _backup_path(manifest: Path) -> Path:
    """manifest.csv.bak, or .bak.1, .bak.2 ... : an older backup is never overwritten."""
    candidate = manifest.with_name(manifest.name + ".bak")
    n = 0
    while candidate.exists():
        n += 1
        candidate = manifest.with_name(f"{manifest.name}.bak.{n}")
    return candidate


def _write_in_place(dataset: Dataset) -> tuple[Path, Path | None]:
    manifest = dataset.root / MANIFEST
    backup = None
    try:
        if manifest.exists():
            backup = _backup_path(manifest)
            shutil.copy2(manifest, backup)
        # write next to the target, then rename: a crash never leaves half a manifest
        fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".csv", dir=dataset.root)
        os.close(fd)
        write_manifest(dataset, Path(tmp))
        os.replace(tmp, manifest)
    except OSError as e:
        raise CounterscanError(f"cannot write {manifest}: {e.strerror or e}") from None
    return manifest, backup


def _write_copy(dataset: Dataset, out: Path) -> Path:
    """A complete new dataset in `out`: copies of the photos and a manifest.

    Copies, not hard links: a link shares the file, so editing a photo of the new dataset
    would silently change the original (as root, even a read-only one).
    """
    samples: list[Sample] = []
    try:
        for sample in dataset.samples:
            rel = sample.path.relative_to(dataset.root)
            target = out / rel
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(sample.path, target)
            samples.append(replace(sample, path=target, rel=rel.as_posix()))
        return write_manifest(replace(dataset, root=out, samples=samples))
    except OSError as e:
        raise CounterscanError(f"cannot write the dataset to {out}: {e.strerror or e}") from None
