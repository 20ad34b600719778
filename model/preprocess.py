"""uint8 RGB pixels -> normalised network input, the one definition of it.

The exported ONNX graph starts with exactly this module, so training (which may call it on
decoded uint8 batches) and serving (which feeds raw uint8 to the graph) cannot drift apart.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from counterscan.model.config import ModelConfig


class NormalizeUint8(nn.Module):
    """(N, H, W, 3) uint8 RGB -> (N, 3, H, W) float32: (pixel / 255 - mean) / std."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        # Folded into one multiply-add per channel: x * scale + shift.
        std = torch.tensor(config.std, dtype=torch.float32)
        mean = torch.tensor(config.mean, dtype=torch.float32)
        self.register_buffer("scale", (1.0 / (255.0 * std)).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("shift", (-mean / std).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: Tensor) -> Tensor:
        x = images.permute(0, 3, 1, 2).to(torch.float32)  # (N, 3, H, W)
        return x * self.scale + self.shift


def normalize_uint8(images: Tensor, config: ModelConfig) -> Tensor:
    """Functional form of `NormalizeUint8` (builds the constants each call)."""
    return NormalizeUint8(config).to(images.device)(images)
