"""Which photos train, which validate, which test, for one run.

In order of precedence:
1. resuming: the split the run recorded in RUN_DIR/split.csv (the dataset may not have changed);
2. the dataset's own `split` column / train-val-test folders (a missing val split is carved
   out of train, by group);
3. otherwise a group-aware split made here (counterscan.datasets.split), stratified by label,
   deterministic for the seed. The run records whatever it used in RUN_DIR/split.csv.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from counterscan.datasets.reader import Dataset, Sample
from counterscan.errors import CounterscanError
from counterscan.training.config import TrainConfig
from counterscan.training.rundir import read_split


def resolve_split(
    dataset: Dataset, config: TrainConfig, recorded: Path | None = None, progress: bool = False
) -> list[Sample]:
    """The dataset's samples (same order), each with its split set to train, val or test."""
    samples = list(dataset.samples)
    if recorded is not None and recorded.is_file():
        samples = _apply_recorded(samples, recorded)
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
    _check(samples)
    return samples


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


def _apply_recorded(samples: list[Sample], recorded: Path) -> list[Sample]:
    mapping = read_split(recorded)
    missing = [s.rel for s in samples if s.rel not in mapping]
    if missing or len(mapping) != len(samples):
        raise CounterscanError(
            f"the dataset changed since the run started ({recorded} lists {len(mapping)} photos, "
            f"the dataset has {len(samples)}); start a new run instead of --resume"
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
