"""Mixup (`mixup`, engine.mix): what it does to a batch, and that a run with it trains,
differs from one without and resumes exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from counterscan.errors import CounterscanError
from counterscan.model.checkpoint import load_checkpoint
from counterscan.training import engine
from counterscan.training.config import TrainConfig
from counterscan.training.trainer import train
from tests.helpers.interrupted_run import train_killed_after_epoch_1


def _batch(n: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 3, 4, 4) photos whose every pixel equals the photo's target (0 or 1)."""
    y = (torch.arange(n) % 3 == 0).float()  # (n,)
    return y.view(n, 1, 1, 1).expand(n, 3, 4, 4).clone(), y


def test_each_photo_and_its_target_are_blended_alike() -> None:
    torch.manual_seed(0)
    x, y = _batch()
    fractional = 0
    for _ in range(20):
        mx, my = engine.mix(x, y, alpha=0.4)
        assert mx.shape == x.shape and my.shape == y.shape
        # a photo made of its target's value stays so: pixels and target share one weight
        torch.testing.assert_close(mx, my.view(-1, 1, 1, 1).expand_as(mx))
        # a permutation within the batch: the batch's totals are unchanged
        torch.testing.assert_close(my.sum(), y.sum())
        torch.testing.assert_close(mx.sum(), x.sum())
        assert bool(((my >= 0) & (my <= 1)).all())
        fractional += int(((my > 0.01) & (my < 0.99)).any())
    assert fractional >= 10  # genuine/counterfeit pairs do get soft targets


def test_the_same_seed_mixes_the_same_way() -> None:
    x, y = _batch()
    torch.manual_seed(5)
    first = engine.mix(x, y, alpha=0.4)
    torch.manual_seed(5)
    second = engine.mix(x, y, alpha=0.4)
    torch.testing.assert_close(first, second)


@pytest.mark.parametrize("alpha", [-0.1, 11.0])
def test_a_mixup_outside_the_range_is_refused(alpha: float) -> None:
    with pytest.raises(CounterscanError, match="mixup"):
        TrainConfig(mixup=alpha)


def _losses(run: Path) -> list[float]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["train_loss"] for line in lines]


def test_a_run_with_mixup_trains_differently_and_resumes_exactly(
    tiny_data: Path, tiny_run: dict[str, Any], tmp_path: Path, make_tiny_config: Any
) -> None:
    plain = tiny_run["dir"]  # the same tiny run without mixup
    config = make_tiny_config(mixup=0.4)
    straight = tmp_path / "straight"
    summary = train(tiny_data, straight, config, progress=False)
    assert summary["training"]["config"]["mixup"] == 0.4
    assert _losses(straight)[0] != pytest.approx(_losses(plain)[0], abs=1e-6)

    resumed = tmp_path / "resumed"
    train_killed_after_epoch_1(tiny_data, resumed, config)
    train(tiny_data, resumed, None, resume=True, progress=False)
    assert _losses(resumed) == pytest.approx(_losses(straight), rel=1e-6)
    want = load_checkpoint(straight / "last.pt").model.state_dict()
    got = load_checkpoint(resumed / "last.pt").model.state_dict()
    for k, v in want.items():
        torch.testing.assert_close(got[k], v, rtol=1e-5, atol=1e-6, msg=k)
