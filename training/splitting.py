"""Which photos train, which validate, which test, for one run.

In order of precedence:
1. resuming: the split the run recorded in RUN_DIR/split.csv (the dataset may not have changed);
2. a split given by the caller (path -> train/val/test; `--cv` gives each fold's);
3. the dataset's own `split` column / train-val-test folders (a missing val split is carved
   out of train, by group);
4. otherwise a group-aware split made here (counterscan.datasets.split), stratified by label,
   deterministic for the seed.
Then, unless resuming, `train_fraction` < 1 leaves out part of the training groups (their split
becomes ""). The run records whatever it used in RUN_DIR/split.csv.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

from counterscan.datasets.reader import Dataset, Sample
from counterscan.errors import CounterscanError
from counterscan.training.config import TrainConfig
from counterscan.training.rundir import read_split


def resolve_split(
    dataset: Dataset,
    config: TrainConfig,
    recorded: Path | None = None,
    progress: bool = False,
    given: Mapping[str, str] | None = None,
) -> list[Sample]:
    """The dataset's samples (same order), each with its split set to train, val or test (or
    "" when train_fraction left it out). given: path (as in the manifest) -> split."""
    samples = list(dataset.samples)
    if recorded is not None and recorded.is_file():
        samples = _apply_mapping(samples, read_split(recorded), str(recorded))
        _check(samples)
        return samples
    if given is not None:
        samples = _apply_mapping(samples, given, "the given split")
    elif dataset.has_split:
        unsplit = [s.rel for s in samples if not s.split]
        if unsplit:
            raise CounterscanError(
                f"{len(unsplit)} photo(s) have no split (e.g. {unsplit[0]}); "
                "give every photo a split, or none so that training makes one"
            )
        if not any(s.split == "val" for s in samples):
            train_idx = [i for i, s in enumerate(samples) if s.split == "train"]
            carved = group_split(
                dataset, [samples[i] for i in train_idx], config.val_fraction, 0.0, config.seed,
                progress,
            )  # fmt: skip
            for i, sample in zip(train_idx, carved, strict=True):
                samples[i] = sample
    else:
        samples = group_split(
            dataset, samples, config.val_fraction, config.test_fraction, config.seed, progress
        )
    samples = keep_train_share(samples, config.train_fraction, config.seed)
    _check(samples)
    return samples


def keep_train_share(samples: list[Sample], fraction: float, seed: int) -> list[Sample]:
    """Copies of `samples` where only about `fraction` of the training photos keep split
    "train", by whole groups, per label; the others get split "". Val and test are untouched.

    Each group counts for its majority label; per label the groups are taken in a seeded order
    while that brings the photo count closer to fraction x the label's training photos (at
    least one group). The order does not depend on the fraction, so a smaller share is a subset
    of a larger one: the points of a learning curve differ by added groups only.
    """
    if fraction >= 1.0:
        return list(samples)
    per_group: dict[str, Counter[str]] = defaultdict(Counter)
    for s in samples:
        if s.split == "train":
            per_group[s.group_key][s.label] += 1
    by_label: dict[str, list[str]] = defaultdict(list)
    for key in sorted(per_group):  # sorted, then shuffled: the order depends on the seed only
        counts = per_group[key]
        by_label[max(sorted(counts), key=lambda label: counts[label])].append(key)
    kept: set[str] = set()
    for label, keys in sorted(by_label.items()):
        random.Random(f"{seed}:{label}").shuffle(keys)
        target = fraction * sum(per_group[k][label] for k in keys)
        taken = 0
        for i, key in enumerate(keys):
            n = per_group[key][label]
            if i and taken + n / 2 > target:  # this group would overshoot more than it fills
                break
            kept.add(key)
            taken += n
    return [
        dataclasses.replace(s, split="") if s.split == "train" and s.group_key not in kept else s
        for s in samples
    ]


def group_split(
    dataset: Dataset,
    samples: list[Sample],
    val_fraction: float,
    test_fraction: float,
    seed: int,
    progress: bool = False,
) -> list[Sample]:
    """Copies of `samples` with split train/val/test: `counterscan data split`'s own plan
    (whole groups, and copies of one photo, on one side; stratified by label)."""
    from counterscan.datasets.split import SplitSettings, plan_split

    settings = SplitSettings(val=val_fraction, test=test_fraction, seed=seed, progress=progress)
    planned = plan_split(dataclasses.replace(dataset, samples=samples), settings)
    return list(planned.dataset.samples)


def _apply_mapping(samples: list[Sample], mapping: Mapping[str, str], source: str) -> list[Sample]:
    """The samples with the split `mapping` gives each path; it must name exactly these photos."""
    missing = [s.rel for s in samples if s.rel not in mapping]
    if missing or set(mapping) != {s.rel for s in samples}:  # rows may name a photo twice
        raise CounterscanError(
            f"the dataset changed since the split was made ({source} lists {len(mapping)} "
            f"photos, the dataset has {len(samples)}); start a new run instead of --resume"
        )
    return [dataclasses.replace(s, split=mapping[s.rel]) for s in samples]


def _check(samples: list[Sample]) -> None:
    """Training needs both classes in train and in val (AP, calibration and thresholds do)."""
    for split in ("train", "val"):
        part = [s for s in samples if s.split == split]
        labels = {s.label for s in part}
        if labels != {"genuine", "counterfeit"}:
            raise CounterscanError(
                f"the {split} split needs photos of both classes, it has "
                f"{len(part)} photo(s) labelled {', '.join(sorted(labels)) or 'nothing'}"
            )
