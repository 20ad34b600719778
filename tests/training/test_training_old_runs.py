"""Runs saved by an older counterscan: settings they lack mean what they meant then, and a
last.pt whose optimizer no longer fits is refused in one line, not with a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from counterscan.cli import main
from counterscan.errors import CounterscanError
from counterscan.model.checkpoint import read_checkpoint_payload
from counterscan.training.config import BEFORE_IT_EXISTED, TrainConfig
from counterscan.training.trainer import train
from tests.helpers.interrupted_run import train_killed_after_epoch_1


def test_todays_config_round_trips_unchanged() -> None:
    config = TrainConfig(backbone_lr_ratio=0.3, label_smoothing=0.1, mirror="auto", mixup=0.2)
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_missing_settings_take_their_former_meaning_not_todays_default() -> None:
    old = TrainConfig().to_dict()
    for name in BEFORE_IT_EXISTED:
        del old[name]
    old["image_size"] = 192
    loaded = TrainConfig.from_dict(old)
    assert loaded.backbone_lr_ratio == 1.0 and loaded.label_smoothing == 0.0
    assert loaded.mirror == "off" and loaded.mixup == 0.0 and loaded.ema_decay == 0.0
    assert loaded.backbone == "efficientnet_lite0" and loaded.train_fraction == 1.0
    # so a --cv fold of such a run is not mistaken for one with today's defaults
    assert {"backbone_lr_ratio", "label_smoothing", "mirror"} <= set(
        loaded.differences(TrainConfig())
    )


@pytest.mark.parametrize(("saved", "now"), [(True, "on"), (False, "off")])
def test_the_former_yes_no_mirror_setting_is_read(saved: bool, now: str) -> None:
    old = {**TrainConfig().to_dict(), "mirror": saved}
    assert TrainConfig.from_dict(old).mirror == now


def test_an_unknown_setting_is_still_refused() -> None:
    with pytest.raises(CounterscanError, match="unknown fields: warp"):
        TrainConfig.from_dict({**TrainConfig().to_dict(), "warp": 9})


def _make_it_old(last: Path) -> None:
    """Rewrite last.pt as the trainer wrote it before the backbone had its own learning rate:
    no backbone_lr_ratio (and later settings) and 2 optimizer groups (decay, no decay)."""
    payload = read_checkpoint_payload(last)
    extra = payload["extra_state"]
    for name in BEFORE_IT_EXISTED:
        extra["train_config"].pop(name)
    extra["train_config"]["mirror"] = False
    groups = extra["optimizer"]["param_groups"]  # backbone decay/no-decay, head decay/no-decay
    extra["optimizer"]["param_groups"] = [
        {**groups[0], "params": groups[0]["params"] + groups[2]["params"]},
        {**groups[1], "params": groups[1]["params"] + groups[3]["params"]},
    ]
    torch.save(payload, last)


def test_resuming_a_run_of_an_older_version_is_refused_by_name(
    tiny_data: Path, tmp_path: Path, make_tiny_config: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    train_killed_after_epoch_1(tiny_data, run, make_tiny_config())
    _make_it_old(run / "last.pt")
    with pytest.raises(CounterscanError, match="saved by an older counterscan"):
        train(tiny_data, run, None, resume=True, progress=False)
    code = main(["train", str(tiny_data), "--out", str(run), "--resume", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("counterscan train: error:") and "older counterscan" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
