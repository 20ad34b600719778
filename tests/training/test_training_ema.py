"""The moving average of the weights (`ema_decay`): its arithmetic, and that a run with it
validates, keeps and resumes the average rather than the trained weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from counterscan.errors import CounterscanError
from counterscan.model.checkpoint import load_checkpoint
from counterscan.training.config import TrainConfig
from counterscan.training.ema import WeightAverage
from counterscan.training.trainer import train
from tests.helpers.interrupted_run import train_killed_after_epoch_1


class _Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.norm = nn.BatchNorm1d(1)


def _set(model: _Small, value: float) -> None:
    with torch.no_grad():
        model.linear.weight.fill_(value)
        model.norm.running_mean.fill_(value)
        model.norm.num_batches_tracked.fill_(int(value))


def test_first_steps_are_a_plain_mean_then_exponential() -> None:
    model = _Small()
    _set(model, 0.0)
    avg = WeightAverage(model, decay=0.5)
    values = [4.0, 8.0, 2.0]
    for value in values:
        _set(model, value)
        avg.update(model)
    # d = 0, then min(0.5, 1/2) = 0.5, then min(0.5, 2/3) = 0.5:
    # 4 -> 0.5 * 4 + 0.5 * 8 = 6 -> 0.5 * 6 + 0.5 * 2 = 4.
    assert avg.model.linear.weight.flatten().tolist() == [4.0, 4.0]
    assert avg.model.norm.running_mean.item() == 4.0  # float buffers are averaged too
    assert avg.model.norm.num_batches_tracked.item() == 2  # counters are copied
    assert avg.updates == 3
    assert not any(p.requires_grad for p in avg.model.parameters())


def test_the_mean_phase_lasts_one_over_one_minus_decay_steps() -> None:
    model = _Small()
    avg = WeightAverage(model, decay=0.9)
    for value in range(1, 11):  # 10 steps: d = n / (n + 1) <= 0.9 throughout
        _set(model, float(value))
        avg.update(model)
    assert avg.model.linear.weight[0, 0].item() == pytest.approx(5.5)  # mean of 1..10
    assert avg.current_decay() == 0.9


def test_state_round_trip() -> None:
    model = _Small()
    avg = WeightAverage(model, decay=0.9)
    _set(model, 3.0)
    avg.update(model)
    again = WeightAverage(_Small(), decay=0.9)
    again.load_state_dict(avg.state_dict())
    assert again.updates == 1
    assert again.model.linear.weight.flatten().tolist() == [3.0, 3.0]


@pytest.mark.parametrize("decay", [1.0, -0.1])
def test_a_decay_outside_the_range_is_refused(decay: float) -> None:
    with pytest.raises(CounterscanError, match="ema_decay"):
        TrainConfig(ema_decay=decay)


def test_a_run_keeps_and_exports_the_average(
    tiny_data: Path, tmp_path: Path, make_tiny_config: Any
) -> None:
    """best.pt holds the average (not the last trained weights); resuming after epoch 1
    reproduces the uninterrupted run's average exactly."""
    config = make_tiny_config(ema_decay=0.9)
    straight = tmp_path / "straight"
    train(tiny_data, straight, config, progress=False)
    last = load_checkpoint(straight / "last.pt")
    best = load_checkpoint(straight / "best.pt").model.state_dict()
    epochs = [json.loads(line) for line in (straight / "metrics.jsonl").read_text().splitlines()]
    assert last.extra_state["ema"]["updates"] == sum(r["steps"] for r in epochs) > 0
    trained = last.model.state_dict()
    averaged = {k: v for k, v in last.extra_state["ema"].items() if k != "updates"}
    key = "classifier.weight"
    assert not torch.allclose(trained[key], averaged[key])  # the average lags the weights
    # Epoch 1 is the frozen phase, so epoch 2 is best; finalize then moves only the head's bias.
    assert epochs[-1]["best_epoch"] == 2
    torch.testing.assert_close(best[key], averaged[key])
    torch.testing.assert_close(
        best["blocks.15.expand.conv.weight"], averaged["blocks.15.expand.conv.weight"]
    )

    resumed = tmp_path / "resumed"
    train_killed_after_epoch_1(tiny_data, resumed, config)
    train(tiny_data, resumed, None, resume=True, progress=False)
    got = load_checkpoint(resumed / "last.pt").extra_state["ema"]
    for k, v in last.extra_state["ema"].items():
        if k == "updates":
            assert got[k] == v
        else:
            torch.testing.assert_close(got[k], v, rtol=1e-5, atol=1e-6, msg=k)
