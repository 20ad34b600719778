"""Shared fixtures of the model tests: small images keep every test file well under a minute."""

from __future__ import annotations

import pytest
import torch

from counterscan.model.config import ModelConfig
from counterscan.model.network import CounterfeitNet
from counterscan.model.pretrained import load_imagenet_weights

SMALL = 64  # pixels; the CAM grid is then 2x2


@pytest.fixture(scope="session")
def pretrained_state() -> dict[str, torch.Tensor]:
    """ImageNet-initialised weights with a non-trivial random head (loaded once)."""
    torch.manual_seed(0)
    model = CounterfeitNet(ModelConfig(image_size=SMALL))
    load_imagenet_weights(model)
    torch.nn.init.normal_(model.classifier.weight, std=0.05)
    torch.nn.init.constant_(model.classifier.bias, -0.3)
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.fixture
def small_model(pretrained_state: dict[str, torch.Tensor]) -> CounterfeitNet:
    model = CounterfeitNet(ModelConfig(image_size=SMALL))
    model.load_state_dict(pretrained_state)
    return model.eval()
