"""train_fraction: a share of the training groups, val and test untouched (learning curves)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from counterscan.cli import main
from counterscan.datasets.reader import read_dataset
from counterscan.errors import CounterscanError
from counterscan.training.config import TrainConfig
from counterscan.training.splitting import resolve_split


def _split(samples: list[Any], name: str) -> list[str]:
    return sorted(s.rel for s in samples if s.split == name)


def _groups(samples: list[Any], label: str) -> set[str]:
    return {s.group_key for s in samples if s.split == "train" and s.label == label}


@pytest.fixture
def big_tiny(tmp_path: Path, make_tiny_dataset: Any) -> Any:
    """40 photos per class in groups of 2, no split of its own."""
    return read_dataset(make_tiny_dataset(tmp_path / "data", with_split=False, per_class=40))


def test_val_and_test_stay_and_train_shrinks_by_groups_per_label(big_tiny: Any) -> None:
    full = resolve_split(big_tiny, TrainConfig())
    shares = {}
    for fraction in (0.25, 0.5, 1.0):
        part = resolve_split(big_tiny, TrainConfig(train_fraction=fraction))
        assert [s.rel for s in part] == [s.rel for s in big_tiny.samples]  # same order
        for side in ("val", "test"):
            assert _split(part, side) == _split(full, side), (fraction, side)
        for label in ("genuine", "counterfeit"):
            kept, all_ = _groups(part, label), _groups(full, label)
            assert kept <= all_
            # groups of 2 photos: the share is met within one group
            assert abs(len(kept) - fraction * len(all_)) <= 1, (fraction, label, len(kept))
        left_out = {s.split for s in part if s.rel in set(_split(full, "train"))} - {"train"}
        assert left_out <= {""}  # left-out photos get no split, never val or test
        shares[fraction] = {s.group_key for s in part if s.split == "train"}
    assert shares[0.25] < shares[0.5] < shares[1.0]  # nested: a curve adds groups only


def test_train_fraction_is_deterministic_for_the_seed(big_tiny: Any) -> None:
    def train_set(seed: int) -> list[str]:
        return _split(resolve_split(big_tiny, TrainConfig(train_fraction=0.5, seed=seed)), "train")

    assert train_set(0) == train_set(0)
    assert train_set(0) != train_set(1)


def test_a_tiny_share_keeps_a_group_of_each_class(big_tiny: Any) -> None:
    part = resolve_split(big_tiny, TrainConfig(train_fraction=0.01))
    assert {s.label for s in part if s.split == "train"} == {"genuine", "counterfeit"}


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan")])
def test_fraction_outside_zero_one_is_refused(bad: float) -> None:
    with pytest.raises(CounterscanError, match=r"train_fraction must be in \(0, 1\]"):
        TrainConfig(train_fraction=bad)


def test_cli_refuses_a_bad_fraction_in_one_line(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["train", str(tiny_data), "--out", str(tmp_path / "r"), "--train-fraction", "0"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "train_fraction must be in (0, 1], got 0.0" in err and len(err.splitlines()) == 1


def test_a_run_records_the_left_out_photos(
    tiny_data: Path, tmp_path: Path, make_tiny_config: Any
) -> None:
    """The trainer trains on the share only, and split.csv says which photos it left out."""
    from counterscan.training.trainer import train

    run_dir = tmp_path / "run"
    summary = train(
        tiny_data, run_dir, make_tiny_config(epochs=1, train_fraction=0.5), progress=False
    )
    rows = list(csv.DictReader((run_dir / "split.csv").open()))
    own = {s.rel: s.split for s in read_dataset(tiny_data).samples}
    assert sum(r["split"] == "train" for r in rows) == summary["counts"]["train"]["total"] == 12
    assert all(own[r["path"]] == "train" for r in rows if r["split"] == "")
    assert sum(r["split"] == "" for r in rows) == 12  # 24 train photos of the dataset, half
    assert all(r["split"] == own[r["path"]] for r in rows if r["split"] in ("val", "test"))
    assert summary["training"]["config"]["train_fraction"] == 0.5
