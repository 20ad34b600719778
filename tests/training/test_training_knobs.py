"""The training knobs the sneakers experiments turned: mirror flips, a slower backbone, label
smoothing. Each is checked on what it does to photos, learning rates and the loss."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from counterscan.errors import CounterscanError
from counterscan.model.config import ModelConfig
from counterscan.model.network import CounterfeitNet
from counterscan.training import engine
from counterscan.training.config import TrainConfig
from counterscan.training.optim import param_groups
from counterscan.training.transforms import describe, train_transform


def _half_dark(size: int = 80) -> torch.Tensor:
    """(3, size, size) uint8: left half black, right half white."""
    image = torch.zeros(3, size, size, dtype=torch.uint8)
    image[:, :, size // 2 :] = 255
    return image


def _dark_side_left(out: torch.Tensor) -> bool:
    half = out.shape[-1] // 2
    return out[..., :half].float().mean() < out[..., half:].float().mean()


def test_mirror_flips_some_photos_and_only_when_asked() -> None:
    # Every crop keeps the centre (at least 55% of the area, aspect 3:4..4:3), so an unflipped
    # photo always stays darker on the left.
    torch.manual_seed(0)
    plain = train_transform(64, mirror=False)
    mirrored = train_transform(64, mirror=True)
    image = _half_dark()
    assert all(_dark_side_left(plain(image)) for _ in range(40))
    left = [_dark_side_left(mirrored(image)) for _ in range(200)]
    assert 60 < sum(left) < 140  # about half flipped


def test_the_card_lists_the_flip_only_when_used() -> None:
    assert any("HorizontalFlip" in line for line in describe(train_transform(64, mirror=True)))
    assert not any("HorizontalFlip" in line for line in describe(train_transform(64)))


def test_backbone_learns_at_its_ratio_and_the_head_at_full_rate() -> None:
    model = CounterfeitNet(ModelConfig(image_size=64))
    groups = param_groups(model, weight_decay=0.02, backbone_lr_ratio=0.25)
    head = {id(p) for p in model.classifier.parameters()}
    seen = [id(p) for g in groups for p in g["params"]]
    assert sorted(seen) == sorted(id(p) for p in model.parameters())  # each exactly once
    for group in groups:
        is_head = {id(p) in head for p in group["params"]}
        assert len(is_head) <= 1
        if group["params"]:
            assert group["lr_ratio"] == (1.0 if is_head == {True} else 0.25)
        assert group["weight_decay"] == (0.02 if all(p.ndim > 1 for p in group["params"]) else 0.0)


def test_the_ratio_holds_through_the_schedule() -> None:
    # The trainer builds the optimizer like this: LambdaLR scales each group's own start lr.
    model = CounterfeitNet(ModelConfig(image_size=64))
    groups = param_groups(model, 0.0, 0.3)
    for group in groups:
        group["lr"] = 1e-3 * group["lr_ratio"]
    optimizer = torch.optim.AdamW(groups, lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: engine.lr_factor(step, 2, 10, 0.01)
    )
    for _ in range(5):
        optimizer.step()
        scheduler.step()
        lrs = {round(g["lr"] / g["lr_ratio"], 12) for g in optimizer.param_groups}
        assert len(lrs) == 1  # every group at the same point of the schedule


def test_label_smoothing_pulls_targets_toward_one_half() -> None:
    logit = torch.tensor([2.0, -1.0, 0.5])
    target = torch.tensor([1.0, 0.0, 1.0])
    plain = engine.SmoothedBCE(1.5, 0.0, torch.device("cpu"))(logit, target)
    expected_plain = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.5]))(logit, target)
    assert torch.allclose(plain, expected_plain)
    smoothed = engine.SmoothedBCE(1.5, 0.2, torch.device("cpu"))(logit, target)
    soft = torch.tensor([0.9, 0.1, 0.9])
    expected = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.5]))(logit, soft)
    assert torch.allclose(smoothed, expected)


@pytest.mark.parametrize(
    "fields", [{"backbone_lr_ratio": 0.0}, {"backbone_lr_ratio": 1.5}, {"label_smoothing": 1.0}]
)
def test_bad_knob_values_are_refused(fields: dict[str, float]) -> None:
    with pytest.raises(CounterscanError, match=r"backbone_lr_ratio|label_smoothing"):
        TrainConfig(**fields)


def test_a_run_on_another_backbone_trains_exports_and_says_so(
    tiny_data, make_tiny_config, tmp_path
) -> None:
    """`backbone` reaches the network, the checkpoint, the ONNX contract and the card."""
    from counterscan.contract import ModelContract
    from counterscan.model.checkpoint import load_checkpoint
    from counterscan.model.export import make_session
    from counterscan.training.trainer import train

    run = tmp_path / "run"
    config = make_tiny_config(backbone="efficientnet_lite1", epochs=1, freeze_epochs=0)
    summary = train(tiny_data, run, config, progress=False)
    assert summary["model"]["backbone"] == "efficientnet_lite1"
    assert load_checkpoint(run / "best.pt").config.backbone == "efficientnet_lite1"
    assert load_checkpoint(run / "best.pt").model.n_blocks == 21
    meta = make_session(run / "model.onnx").get_modelmeta().custom_metadata_map
    assert ModelContract.from_metadata(meta).backbone == "efficientnet_lite1"
    assert "- efficientnet_lite1 (ImageNet weights)" in (run / "model_card.md").read_text()
