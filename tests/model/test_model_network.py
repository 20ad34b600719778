"""The network: shapes, the CAM's definition and localisation, frozen blocks, ImageNet loading."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from counterscan.errors import CounterscanError
from counterscan.model.config import ModelConfig
from counterscan.model.network import CounterfeitNet
from counterscan.model.preprocess import normalize_uint8
from counterscan.model.pretrained import load_imagenet_weights, weights_path

# ---------------------------------------------------------------- ImageNet weights


def test_pretrained_weights_load_with_every_key_matched() -> None:
    model = CounterfeitNet(ModelConfig(image_size=64))
    report = load_imagenet_weights(model)
    backbone_keys = [k for k in model.state_dict() if not k.startswith("classifier.")]
    assert report["matched"] == len(backbone_keys) == 294
    assert report["missing"] == ["classifier.weight", "classifier.bias"]
    assert report["unexpected"] == ["_fc.bias", "_fc.weight"]  # the ImageNet classifier
    source = torch.load(weights_path(), weights_only=True, map_location="cpu")
    assert len(source) == 296
    state = model.state_dict()
    assert torch.equal(state["stem.conv.weight"], source["_conv_stem.weight"])
    assert torch.equal(state["blocks.0.depthwise.bn.bias"], source["_blocks.0._bn1.bias"])
    assert torch.equal(
        state["blocks.15.project.conv.weight"], source["_blocks.15._project_conv.weight"]
    )
    assert torch.equal(state["head.bn.running_var"], source["_bn1.running_var"])


def test_pretrained_shape_mismatch_is_refused(tmp_path) -> None:
    source = torch.load(weights_path(), weights_only=True, map_location="cpu")
    source["_blocks.3._depthwise_conv.weight"] = torch.zeros(144, 1, 3, 3)  # file says 5x5
    bad = tmp_path / "bad.pth"
    torch.save(source, bad)
    with pytest.raises(CounterscanError, match=r"_blocks\.3\._depthwise_conv\.weight"):
        load_imagenet_weights(CounterfeitNet(ModelConfig(image_size=64)), bad)


# ---------------------------------------------------------------- shapes and definitions


@pytest.mark.parametrize("size", [64, 96])
def test_output_shapes(small_model: CounterfeitNet, size: int) -> None:
    x = torch.randn(3, 3, size, size)
    with torch.no_grad():
        out = small_model(x)
        feats = small_model.features(x)
    h = size // 32
    assert out.logit.shape == (3,)
    assert out.embedding.shape == (3, 1280)
    assert out.cam.shape == (3, h, h)
    assert feats.shape == (3, 1280, h, h)
    assert torch.allclose(out.embedding.norm(dim=1), torch.ones(3), atol=1e-5)
    assert small_model.n_blocks == 16


def test_cam_mean_equals_logit_in_eval(small_model: CounterfeitNet) -> None:
    with torch.no_grad():
        out = small_model(torch.randn(4, 3, 96, 96))
    assert torch.allclose(out.cam.mean(dim=(1, 2)), out.logit, atol=1e-5)


def test_channels_last_gives_the_same_result(small_model: CounterfeitNet) -> None:
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        a = small_model(x)
        b = small_model.to(memory_format=torch.channels_last)(
            x.to(memory_format=torch.channels_last)
        )
    assert torch.allclose(a.logit, b.logit, atol=1e-4)


def _patch_images(n: int, size: int, cells: list[tuple[int, int]], seed: int) -> np.ndarray:
    """Grey noisy photos; a red square filling CAM cell (i, j) where cells[k] is not None."""
    rng = np.random.default_rng(seed)
    images = rng.normal(128, 20, size=(n, size, size, 3)).clip(0, 255).astype(np.uint8)
    cell = size // (size // 32)
    for k, (i, j) in enumerate(cells):
        if i >= 0:
            images[k, i * cell + 4 : (i + 1) * cell - 4, j * cell + 4 : (j + 1) * cell - 4] = (
                220,
                20,
                20,
            )
    return images


def test_cam_highlights_a_planted_patch(small_model: CounterfeitNet) -> None:
    """Fit the head on pooled ImageNet features to tell "red patch" from "no patch", then the CAM
    of new images must peak in the cell where the patch was planted (4x4 grid at 128 px)."""
    size, grid = 128, 4
    rng = np.random.default_rng(0)
    train_cells = [(int(rng.integers(grid)), int(rng.integers(grid))) for _ in range(24)]
    train_cells += [(-1, -1)] * 24  # no patch
    images = torch.from_numpy(_patch_images(48, size, train_cells, seed=1))
    config = ModelConfig(image_size=size)
    with torch.no_grad():
        pooled = small_model.features(normalize_uint8(images, config)).mean(dim=(2, 3))
    targets = torch.tensor([1.0] * 24 + [0.0] * 24)
    head = torch.nn.Linear(1280, 1)
    opt = torch.optim.LBFGS(head.parameters(), max_iter=100)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(head(pooled).squeeze(1), targets)
        loss.backward()
        return loss

    opt.step(closure)
    small_model.classifier.load_state_dict(head.state_dict())

    test_cells = [(0, 0), (0, 3), (3, 0), (2, 1), (1, 2), (3, 3)]
    test_images = torch.from_numpy(_patch_images(len(test_cells), size, test_cells, seed=2))
    with torch.no_grad():
        cam = small_model(normalize_uint8(test_images, config)).cam  # (6, 4, 4)
    assert cam.shape == (len(test_cells), grid, grid)
    # Receptive fields are wider than a 32 px cell, so the evidence spreads to the neighbours:
    # the peak must be at the patch or next to it, and cells two or more away must stay low.
    rows, cols = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    for (i, j), c in zip(test_cells, cam, strict=True):
        pi, pj = divmod(int(c.argmax()), grid)
        assert max(abs(pi - i), abs(pj - j)) <= 1, (i, j, c)
        far = torch.maximum((rows - i).abs(), (cols - j).abs()) >= 2
        assert c[far].max() < 0.4 * c.max(), (i, j, c)


# ---------------------------------------------------------------- frozen blocks


def test_frozen_blocks_stay_frozen_through_a_train_step(small_model: CounterfeitNet) -> None:
    model = small_model
    model.set_frozen_blocks(3)
    model.train()  # must not put the frozen BatchNorms back into training mode
    frozen = [model.stem, *list(model.blocks)[:3]]
    assert all(not m.training for f in frozen for m in f.modules())
    assert model.blocks[3].training and model.head.training
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    out = model(torch.randn(4, 3, 64, 64))
    F.binary_cross_entropy_with_logits(out.logit, torch.tensor([0.0, 1, 0, 1])).backward()
    opt.step()
    after = model.state_dict()
    for name, p in model.named_parameters():
        is_frozen = name.startswith(("stem.", "blocks.0.", "blocks.1.", "blocks.2."))
        assert (p.grad is None) == is_frozen, name
        assert p.requires_grad != is_frozen, name
    for key in before:
        frozen_key = key.startswith(("stem.", "blocks.0.", "blocks.1.", "blocks.2."))
        if frozen_key:  # weights and BatchNorm running statistics untouched
            assert torch.equal(before[key], after[key]), key
    assert not torch.equal(
        before["blocks.3.expand.bn.running_mean"], after["blocks.3.expand.bn.running_mean"]
    )
    assert not torch.equal(before["head.conv.weight"], after["head.conv.weight"])

    model.set_frozen_blocks(0)  # unfreeze: everything trains again
    assert all(p.requires_grad for p in model.parameters())
    assert model.stem.bn.training
    with pytest.raises(ValueError):
        model.set_frozen_blocks(17)


# ---------------------------------------------------------------- config


def test_config_round_trip_and_validation() -> None:
    import json

    config = ModelConfig(image_size=96, dropout=0.3)
    data = json.loads(json.dumps(config.to_dict()))
    assert ModelConfig.from_dict(data) == config
    assert config.feature_size == 3
    with pytest.raises(CounterscanError, match="multiple of 32"):
        ModelConfig(image_size=100)
    with pytest.raises(CounterscanError, match="unknown fields: colour"):
        ModelConfig.from_dict({**data, "colour": 1})
