"""EfficientNet-Lite (0, 1 or 2) with a one-logit "counterfeit" head, in our own compact code.

EfficientNet-Lite is EfficientNet made friendly to mobile/CPU inference and quantization: no
squeeze-and-excitation, ReLU6 instead of swish, and a fixed (unscaled) stem and head. Layout:

    stem     conv 3x3 s2 -> 32 ch, BN, ReLU6                      (N, 32, H/2, W/2)
    blocks   16 (Lite0) or 21 MBConv blocks in 7 stages (backbones.py)   (N, 320, H/32, W/32)
             (Lite2: 352 channels)
    head     conv 1x1 -> 1280 ch, BN, ReLU6                        (N, 1280, h, w)
    pool     global average -> embedding (L2-normalised copy)      (N, 1280)
    dropout, Linear(1280, 1) -> logit                              (N,)
    cam      the same Linear applied at every position of the last feature map   (N, h, w)

The ImageNet weights were trained in TensorFlow with "SAME" padding, which pads stride-2
convolutions asymmetrically (one pixel less at the top/left). We reproduce it exactly for the
even input sizes we allow (multiples of 32); stride-1 layers pad symmetrically as usual.

CAM definition: cam[n, i, j] = w . features[n, :, i, j] + b, i.e. the head applied to each cell,
bias included. Its spatial mean equals the logit in eval mode (dropout off), and a cell is > 0
where the local evidence alone would call the image counterfeit.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from counterscan.model.backbones import BACKBONES, STEM_CHANNELS, Stage
from counterscan.model.config import ModelConfig

BN_EPS = 1e-3  # TensorFlow's default, which the pretrained statistics were computed with


class NetOutput(NamedTuple):
    logit: Tensor  # (N,) raw "counterfeit" logit, before temperature scaling
    embedding: Tensor  # (N, 1280) L2-normalised global-average-pooled features
    cam: Tensor  # (N, h, w) raw class-activation map, h = H/32 (see module docstring)


class ConvBN(nn.Module):
    """Conv (no bias) + BatchNorm + optional ReLU6, with TensorFlow "SAME" padding."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int = 1,
        groups: int = 1,
        act: bool = True,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        # For stride 2 on an even size, SAME pads k//2 - 1 before and k//2 after.
        self.pad = (kernel // 2 - 1, kernel // 2) * 2 if stride == 2 else None
        padding = 0 if stride == 2 else kernel // 2
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=bn_momentum)
        self.act = nn.ReLU6(inplace=True) if act else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        if self.pad is not None:
            x = F.pad(x, self.pad)
        return self.act(self.bn(self.conv(x)))


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project (linear), skip if shapes match."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int,
        expand: int,
        drop_connect: float,
        bn_momentum: float,
    ) -> None:
        super().__init__()
        mid = c_in * expand
        self.expand = ConvBN(c_in, mid, 1, bn_momentum=bn_momentum) if expand != 1 else None
        self.depthwise = ConvBN(mid, mid, kernel, stride, groups=mid, bn_momentum=bn_momentum)
        self.project = ConvBN(mid, c_out, 1, act=False, bn_momentum=bn_momentum)
        self.residual = stride == 1 and c_in == c_out
        self.drop_connect = drop_connect

    def forward(self, x: Tensor) -> Tensor:
        out = x if self.expand is None else self.expand(x)
        out = self.project(self.depthwise(out))
        if not self.residual:
            return out
        if self.training and self.drop_connect > 0:
            # Stochastic depth: drop the whole residual branch per sample, rescale the survivors.
            keep = 1.0 - self.drop_connect
            mask = torch.rand(out.shape[0], 1, 1, 1, dtype=out.dtype, device=out.device) < keep
            out = out * mask.to(out.dtype) / keep
        return out + x


def _block_specs(stages: tuple[Stage, ...]) -> list[tuple[int, int, int, int, int]]:
    """Flatten a backbone's stages into one (c_in, c_out, kernel, stride, expand) per block."""
    specs = []
    c_in = STEM_CHANNELS
    for repeats, kernel, stride, expand, c_out in stages:
        for i in range(repeats):
            specs.append((c_in, c_out, kernel, stride if i == 0 else 1, expand))
            c_in = c_out
    return specs


class CounterfeitNet(nn.Module):
    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        mom = self.config.bn_momentum
        specs = _block_specs(BACKBONES[self.config.backbone].stages)
        self.stem = ConvBN(3, STEM_CHANNELS, 3, stride=2, bn_momentum=mom)
        self.blocks = nn.Sequential(
            *(
                # Stochastic-depth rate grows linearly with depth, as in EfficientNet.
                MBConv(
                    *spec, drop_connect=self.config.drop_connect * i / len(specs), bn_momentum=mom
                )
                for i, spec in enumerate(specs)
            )
        )
        self.head = ConvBN(specs[-1][1], self.config.num_features, 1, bn_momentum=mom)
        self.dropout = nn.Dropout(self.config.dropout)
        self.classifier = nn.Linear(self.config.num_features, 1)
        self._frozen_blocks = 0

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def features(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) normalised images -> (N, 1280, H/32, W/32) last feature map."""
        return self.head(self.blocks(self.stem(x)))

    def forward(self, x: Tensor) -> NetOutput:
        feats = self.features(x)  # (N, C, h, w)
        pooled = feats.mean(dim=(2, 3))  # (N, C)
        logit = self.classifier(self.dropout(pooled)).squeeze(1)  # (N,)
        embedding = F.normalize(pooled, dim=1)  # (N, C)
        # The head as a 1x1 convolution over the feature map: one Conv op in ONNX.
        weight = self.classifier.weight.view(1, -1, 1, 1)  # (1, C, 1, 1)
        cam = F.conv2d(feats, weight, self.classifier.bias).squeeze(1)  # (N, h, w)
        return NetOutput(logit, embedding, cam)

    # ---------------------------------------------------------------- freezing early layers

    def _frozen_modules(self) -> list[nn.Module]:
        if self._frozen_blocks == 0:
            return []
        return [self.stem, *list(self.blocks)[: self._frozen_blocks]]

    def set_frozen_blocks(self, n: int) -> None:
        """Freeze the stem and the first `n` MBConv blocks; n = 0 unfreezes everything.

        Frozen parameters get requires_grad=False and their BatchNorm layers stay in eval mode
        (running statistics untouched) even across later `train()` calls. Build the optimizer
        over all parameters: frozen ones simply receive no gradient.
        """
        if not 0 <= n <= self.n_blocks:
            raise ValueError(f"frozen blocks must be in 0..{self.n_blocks}, got {n}")
        self._frozen_blocks = n
        frozen = {id(p) for m in self._frozen_modules() for p in m.parameters()}
        for module in (self.stem, *self.blocks):
            for p in module.parameters():
                p.requires_grad_(id(p) not in frozen)
        self.train(self.training)  # re-apply the BN modes

    @property
    def frozen_blocks(self) -> int:
        return self._frozen_blocks

    def train(self, mode: bool = True) -> CounterfeitNet:
        super().train(mode)
        for module in self._frozen_modules():
            module.eval()
        return self
