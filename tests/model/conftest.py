"""Shared fixtures of the model tests: small images keep every test file well under a minute.

`trained_state` is a model that has learnt something, for tests whose expectation only means
something on one (int8 keeps the ranking): the ImageNet backbone with its one-logit head fitted
on drawn photos where counterfeits carry a red square, which the backbone's features separate.
Only the head is fitted (the backbone's features are computed once), so it costs seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from PIL import Image

from counterscan.model.config import ModelConfig
from counterscan.model.network import CounterfeitNet
from counterscan.model.preprocess import normalize_uint8
from counterscan.model.pretrained import load_imagenet_weights
from tests.helpers.photos import labelled_photo

SMALL = 64  # pixels; the CAM grid is then 2x2
HEAD_TRAIN_PHOTOS = 48  # half of them counterfeit
HEAD_STEPS = 60  # AdamW on the head only; the training loss is then below 0.05
TRAIN_SEEDS = 0  # drawn photos use seeds from here; other tests draw from 50_000 up


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


def draw_photos(n: int, first_seed: int, size: int = SMALL) -> tuple[np.ndarray, np.ndarray]:
    """n listing-like photos, (n, size, size, 3) uint8, and their labels (1 = counterfeit,
    every second one): tests/helpers/photos.labelled_photo, resized."""
    images, labels = [], []
    for i in range(n):
        counterfeit = i % 2 == 1
        img = labelled_photo(counterfeit, first_seed + i)  # 96 x 96
        images.append(np.asarray(img.resize((size, size), Image.Resampling.BICUBIC)))
        labels.append(int(counterfeit))
    return np.stack(images), np.array(labels)


@pytest.fixture(scope="session")
def drawn_photos() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """drawn_photos(n, first_seed) -> (images, labels); tests cannot import this file."""
    return draw_photos


@pytest.fixture(scope="session")
def trained_state(pretrained_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The ImageNet backbone with its head fitted on HEAD_TRAIN_PHOTOS drawn photos."""
    torch.manual_seed(0)
    model = CounterfeitNet(ModelConfig(image_size=SMALL))
    model.load_state_dict(pretrained_state)
    model.eval()
    images, labels = draw_photos(HEAD_TRAIN_PHOTOS, TRAIN_SEEDS)
    with torch.no_grad():
        x = normalize_uint8(torch.from_numpy(images), model.config)
        pooled = model.features(x).mean(dim=(2, 3))
    target = torch.from_numpy(labels).float()
    optimiser = torch.optim.AdamW(model.classifier.parameters(), lr=0.01, weight_decay=0.1)
    for _ in range(HEAD_STEPS):
        optimiser.zero_grad()
        logits = model.classifier(pooled).squeeze(1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.05, f"the head did not learn the drawn photos (loss {loss.item():.3f})"
    return {k: v.clone() for k, v in model.state_dict().items()}
