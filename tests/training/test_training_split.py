"""Which photos train, validate and test: the dataset's split, a carved-out val, or our own."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from counterscan.datasets.reader import read_dataset
from counterscan.errors import CounterscanError
from counterscan.training.config import TrainConfig
from counterscan.training.rundir import manifest_sha256, write_split
from counterscan.training.splitting import resolve_split


def _sides_per_group(samples: list[Any]) -> dict[str, set[str]]:
    sides: dict[str, set[str]] = defaultdict(set)
    for s in samples:
        sides[s.group_key].add(s.split)
    return sides


def test_without_a_split_groups_stay_whole(tmp_path: Path, make_tiny_dataset: Any) -> None:
    dataset = read_dataset(make_tiny_dataset(tmp_path / "data", with_split=False))
    samples = resolve_split(dataset, TrainConfig(val_fraction=0.2, test_fraction=0.2))
    assert [s.rel for s in samples] == [s.rel for s in dataset.samples]  # same order
    assert all(len(sides) == 1 for sides in _sides_per_group(samples).values())
    for split in ("train", "val", "test"):
        assert {s.label for s in samples if s.split == split} == {"genuine", "counterfeit"}
    again = resolve_split(dataset, TrainConfig(val_fraction=0.2, test_fraction=0.2))
    assert [s.split for s in again] == [s.split for s in samples]  # deterministic for a seed


def test_the_datasets_split_is_kept_and_val_carved_from_train_when_missing(
    tmp_path: Path, make_tiny_dataset: Any
) -> None:
    root = make_tiny_dataset(tmp_path / "data")
    original = read_dataset(root)
    assert [s.split for s in resolve_split(original, TrainConfig())] == [
        s.split for s in original.samples
    ]
    manifest = root / "manifest.csv"
    rows = list(csv.DictReader(manifest.open()))
    for row in rows:
        row["split"] = "train" if row["split"] == "val" else row["split"]
    with manifest.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    samples = resolve_split(read_dataset(root), TrainConfig(val_fraction=0.3))
    was = {r["path"]: r["split"] for r in rows}
    assert all(s.split == "test" for s in samples if was[s.rel] == "test")  # test untouched
    assert any(s.split == "val" for s in samples)
    assert all(len(sides) == 1 for sides in _sides_per_group(samples).values())


def test_recorded_split_wins_and_a_changed_dataset_is_refused(
    tmp_path: Path, make_tiny_dataset: Any
) -> None:
    dataset = read_dataset(make_tiny_dataset(tmp_path / "data", with_split=False))
    samples = resolve_split(dataset, TrainConfig(val_fraction=0.2, test_fraction=0.2))
    write_split(tmp_path / "split.csv", samples)
    again = resolve_split(dataset, TrainConfig(seed=99), tmp_path / "split.csv")
    assert [s.split for s in again] == [s.split for s in samples]
    assert manifest_sha256(again) == manifest_sha256(samples)
    assert manifest_sha256(list(reversed(samples))) == manifest_sha256(samples)  # order-free
    dataset.samples.pop()
    with pytest.raises(CounterscanError, match="dataset changed"):
        resolve_split(dataset, TrainConfig(), tmp_path / "split.csv")
