"""Checkpoints: weights-only round trip, resume state, refusing what cannot be loaded safely."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from counterscan.errors import CounterscanError
from counterscan.model.checkpoint import load_checkpoint, save_checkpoint
from counterscan.model.config import ModelConfig
from counterscan.model.network import CounterfeitNet

META = {
    "model_version": "v-test",
    "temperature": 1.7,
    "thresholds": {"high": 0.8, "low": 0.2},
    "metrics": {"roc_auc": 0.99},
    "counts": {"train": 10, "val": 4},
}


def test_round_trip_restores_weights_config_meta_and_resume_state(
    small_model: CounterfeitNet, tmp_path
) -> None:
    config = ModelConfig(image_size=64)
    model = small_model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(2, 3, 64, 64)).logit.sum().backward()
    opt.step()
    rng = torch.get_rng_state()
    path = save_checkpoint(
        tmp_path / "run" / "last.pt",
        model,
        config,
        META,
        optimizer=opt.state_dict(),
        epoch=3,
        torch_rng=rng,
    )
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temporary file left

    raw = torch.load(path, weights_only=True)  # the whole file loads without pickled code
    assert raw["format"] == "counterscan-checkpoint"

    ckpt = load_checkpoint(path)
    assert ckpt.config == config
    assert ckpt.meta == META
    assert ckpt.extra_state["epoch"] == 3
    assert torch.equal(ckpt.extra_state["torch_rng"], rng)
    assert not ckpt.model.training
    opt2 = torch.optim.AdamW(ckpt.model.parameters(), lr=1e-3)
    opt2.load_state_dict(ckpt.extra_state["optimizer"])  # resumable
    x = torch.randn(3, 3, 64, 64)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x).logit, ckpt.model(x).logit)


def test_save_refuses_what_weights_only_loading_would_reject(
    small_model: CounterfeitNet, tmp_path
) -> None:
    config = ModelConfig(image_size=64)
    with pytest.raises(TypeError, match=r"extra_state\.rng\[1\].*ndarray"):
        save_checkpoint(tmp_path / "a.pt", small_model, config, {}, rng=("MT19937", np.zeros(3)))
    with pytest.raises(TypeError, match="JSON-able"):
        save_checkpoint(tmp_path / "b.pt", small_model, config, {"when": object()})
    assert list(tmp_path.iterdir()) == []


def test_load_rejects_missing_foreign_and_unsafe_files(tmp_path) -> None:
    with pytest.raises(CounterscanError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CounterscanError, match="not a counterscan checkpoint"):
        load_checkpoint(foreign)
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"format": "counterscan-checkpoint", "obj": ModelConfig()}, unsafe)  # pickled class
    with pytest.raises(CounterscanError, match="not a readable checkpoint"):
        load_checkpoint(unsafe)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(CounterscanError, match="not a readable checkpoint"):
        load_checkpoint(garbage)


def test_numpy_floats_in_meta_are_stored_as_plain_floats(
    small_model: CounterfeitNet, tmp_path
) -> None:
    """A calibration fit returns numpy.float64; the file must still load with weights_only."""
    meta = {"train": {"calibration_shift": np.float64(0.25), "shifts": [np.float64(-1.5)]}}
    path = save_checkpoint(tmp_path / "best.pt", small_model, ModelConfig(image_size=64), meta)
    ckpt = load_checkpoint(path)
    assert ckpt.meta == {"train": {"calibration_shift": 0.25, "shifts": [-1.5]}}
    assert type(ckpt.meta["train"]["calibration_shift"]) is float
