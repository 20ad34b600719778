"""The network's typed configuration, saved (as JSON-able dict) in every checkpoint.

Everything needed to rebuild the exact network and its input normalisation lives here, so a
checkpoint can be loaded and exported without knowing how it was trained.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from counterscan.errors import CounterscanError
from counterscan.model.backbones import BACKBONES, DEFAULT_BACKBONE, HEAD_CHANNELS

# The network downsamples by 32; input sizes must be a multiple of it so that every stride-2
# layer sees an even size (the TensorFlow "SAME" padding we reproduce is then constant) and the
# CAM grid is exactly image_size / 32.
SIZE_MULTIPLE = 32

# The EfficientNet-Lite ImageNet weights were trained on pixels scaled to about [-1, 1]
# ((p - 127) / 128), not with the usual ImageNet mean/std. Measured on 48 banknote photos: the
# inputs of the BatchNorm layers match their stored running means 3x better in the first ten
# layers with this normalisation (mean |diff| / std 0.095 vs 0.33 with ImageNet mean/std).
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # kept for reference; not what these weights expect
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ModelConfig:
    backbone: str = DEFAULT_BACKBONE  # a key of backbones.BACKBONES
    image_size: int = 224  # square input, pixels; a multiple of 32
    num_features: int = HEAD_CHANNELS  # channels of the last feature map = embedding size
    dropout: float = 0.2  # before the one-logit head
    drop_connect: float = 0.1  # stochastic depth of the last MBConv block (linearly less before)
    bn_momentum: float = 0.1  # PyTorch convention; fast enough to adapt on a few hundred photos
    mean: tuple[float, float, float] = LITE_MEAN  # per RGB channel, on 0..1 pixels
    std: tuple[float, float, float] = LITE_STD

    def __post_init__(self) -> None:
        self.mean = tuple(float(v) for v in self.mean)  # type: ignore[assignment]
        self.std = tuple(float(v) for v in self.std)  # type: ignore[assignment]
        if self.backbone not in BACKBONES:
            raise CounterscanError(
                f"unknown backbone {self.backbone!r}; supported: {', '.join(BACKBONES)}"
            )
        if self.image_size < SIZE_MULTIPLE or self.image_size % SIZE_MULTIPLE:
            raise CounterscanError(
                f"image_size must be a positive multiple of {SIZE_MULTIPLE}, got {self.image_size}"
            )
        if self.num_features != HEAD_CHANNELS:
            raise CounterscanError(f"num_features must be {HEAD_CHANNELS} (every Lite backbone)")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise CounterscanError("mean and std need three values each, std positive")
        if not (0.0 <= self.dropout < 1.0 and 0.0 <= self.drop_connect < 1.0):
            raise CounterscanError("dropout and drop_connect must be in [0, 1)")

    @property
    def feature_size(self) -> int:
        """Side of the last feature map and of the CAM (image_size / 32)."""
        return self.image_size // SIZE_MULTIPLE

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: tuples become lists."""
        out = asdict(self)
        out["mean"] = list(self.mean)
        out["std"] = list(self.std)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Inverse of `to_dict`. Missing keys take their defaults; unknown keys are an error
        (a checkpoint from a newer counterscan whose network this version cannot build)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CounterscanError(f"model config has unknown fields: {', '.join(unknown)}")
        values = dict(data)
        for key in ("mean", "std"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)
