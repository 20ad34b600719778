"""Training settings: one typed dataclass whose defaults need no tuning on a few hundred to a
few thousand labelled photos on a 2-core CPU machine.

Why these defaults (measured on sneakers-nike, 2,284 listing photos of shoes, and banknotes-bd;
numbers in training/README.md):
- image_size 256, backbone learning rate 0.3x the head's, label smoothing 0.1, mirror "auto":
  on 3 group folds of sneakers-nike this set ranked held-out photos better than the former
  defaults (192 px, one learning rate, hard targets, no flips); stitching and logo detail need
  the pixels, and the slower backbone with soft targets memorises less (train loss 0.21
  instead of 0.03). A step costs ~1.8x the CPU of 192 px; banknotes-bd still trains in minutes.
- channels_last: 1.4x less CPU per training step than the default memory layout at 224.
- batch 32, AdamW lr 1e-3 with weight decay 0.02: the usual fine-tuning recipe for
  EfficientNet-sized networks; a one-epoch linear warm-up protects the pretrained weights from
  the first, noisy gradients of the randomly initialised head, then cosine decay to 1% of lr.
- freeze the stem and first 6 blocks for the first 2 epochs: the early layers already detect
  edges and textures; training only the later ones at first costs ~45% less CPU per step (no
  backward pass through the high-resolution layers) and keeps the random head's first
  gradients from wrecking them.
- at most 12 epochs: on banknotes-bd validation AP stopped improving after epoch 8 of 15.
- early stopping on validation average precision (the ranking quality the inspectors' queue
  depends on), near-ties (within 0.002) broken by validation loss, with patience 4 epochs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from counterscan.errors import CounterscanError
from counterscan.model.backbones import BACKBONES, DEFAULT_BACKBONE, LITE0

# What a setting meant in runs saved before it existed (their last.pt and summary.json lack
# it): the behaviour of that time, not today's default, so --resume and --cv compare honestly.
BEFORE_IT_EXISTED: dict[str, Any] = {
    "train_fraction": 1.0,
    "backbone_lr_ratio": 1.0,
    "label_smoothing": 0.0,
    "mixup": 0.0,
    "mirror": "off",
    "ema_decay": 0.0,
    "backbone": LITE0.name,
}


@dataclass
class TrainConfig:
    # --- data
    image_size: int = 256  # network input, pixels (multiple of 32); the ONNX file fixes it
    cache_scale: float = 1.15  # train photos are decoded once at image_size * this, then cropped
    val_fraction: float = 0.15  # of the groups, when the dataset has no split of its own
    test_fraction: float = 0.15
    # Learning curves: keep this share of the training photos (whole groups, per label, a
    # seeded order, so a smaller share is a subset of a larger one); val and test untouched.
    train_fraction: float = 1.0
    # --- optimisation
    epochs: int = 12  # at most (the cosine schedule spans them); early stopping may end sooner
    batch_size: int = 32  # global batch (split across processes under torchrun)
    lr: float = 1e-3  # peak learning rate of AdamW, reached after the warm-up
    weight_decay: float = 0.02
    warmup_epochs: float = 1.0
    min_lr_ratio: float = 0.01  # the cosine decays to lr * this
    grad_clip: float = 2.0  # max gradient norm; guards against one bad batch
    patience: int = 4  # epochs without a better validation AP before stopping
    backbone_lr_ratio: float = 0.3  # backbone lr = lr * this (the new head always gets lr)
    label_smoothing: float = 0.1  # targets 0/1 -> eps/2, 1 - eps/2: less pull toward memorising
    balance: str = (
        "pos_weight"  # "pos_weight" (weight counterfeits by n_genuine/n_counterfeit) or "none"
    )
    # Mixup: blend pairs of training photos and their targets, weight ~ Beta(mixup, mixup);
    # 0 = off (engine.mix). Off: 0.2 ranked sneakers-nike's held-out folds worse
    # (training/README.md).
    mixup: float = 0.0
    mirror: str = "auto"  # random left-right flips: "auto" (from the photos: mirror.py), on, off
    # Validate, keep and export a moving average of the weights (ema.py); 0 = the weights as
    # trained. Its update per step: average = d * average + (1 - d) * weights. Off: 0.995 did
    # not rank sneakers-nike's held-out folds better (training/README.md).
    ema_decay: float = 0.0
    # --- speed
    freeze_blocks: int = 6  # stem + this many MBConv blocks stay frozen ...
    freeze_epochs: int = 2  # ... for this many epochs, then everything trains
    channels_last: bool = True  # faster convolutions on CPU (measured)
    threads: int = 0  # torch CPU threads; 0 = leave torch's default (one per core)
    eval_batch_size: int = 64
    # --- model
    backbone: str = DEFAULT_BACKBONE  # efficientnet_lite0, _lite1 or _lite2 (model/backbones.py)
    pretrained: bool = True  # start from the ImageNet weights (False only for tests)
    dropout: float = 0.2
    drop_connect: float = 0.1
    # --- reproducibility
    seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        if self.image_size < 32 or self.image_size % 32:
            problems.append(f"image_size must be a positive multiple of 32, got {self.image_size}")
        if self.epochs < 1:
            problems.append("epochs must be at least 1")
        if self.batch_size < 2:
            problems.append("batch_size must be at least 2 (BatchNorm needs two photos)")
        if not 0 < self.val_fraction < 1 or not 0 <= self.test_fraction < 1:
            problems.append("val_fraction must be in (0, 1) and test_fraction in [0, 1)")
        elif self.val_fraction + self.test_fraction >= 0.9:
            problems.append("val_fraction + test_fraction leave too little to train on")
        if not 0 < self.train_fraction <= 1:
            problems.append(f"train_fraction must be in (0, 1], got {self.train_fraction}")
        if self.balance not in ("pos_weight", "none"):
            problems.append(f"balance must be 'pos_weight' or 'none', got {self.balance!r}")
        if not 0 < self.backbone_lr_ratio <= 1 or not 0 <= self.label_smoothing < 1:
            problems.append("backbone_lr_ratio must be in (0, 1] and label_smoothing in [0, 1)")
        if self.backbone not in BACKBONES:
            problems.append(
                f"backbone must be one of {', '.join(BACKBONES)}, got {self.backbone!r}"
            )
        if self.mirror not in ("auto", "on", "off"):
            problems.append(f"mirror must be 'auto', 'on' or 'off', got {self.mirror!r}")
        if not 0 <= self.mixup <= 10:
            problems.append(f"mixup must be in [0, 10] (0 = off), got {self.mixup}")
        if not 0 <= self.ema_decay < 1:
            problems.append(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.cache_scale < 1.0:
            problems.append("cache_scale must be >= 1")
        if self.lr <= 0 or self.patience < 1 or self.freeze_blocks < 0 or self.freeze_epochs < 0:
            problems.append("lr must be > 0, patience >= 1, freeze_* >= 0")
        if problems:
            raise CounterscanError("; ".join(problems))

    @property
    def cache_size(self) -> int:
        """Side of the cached training photos (a little larger than the input, for random crops)."""
        return round(self.image_size * self.cache_scale)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """A saved config; fields it lacks take the values of the time before they existed."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CounterscanError(f"training config has unknown fields: {', '.join(unknown)}")
        data = {**BEFORE_IT_EXISTED, **data}
        if isinstance(data["mirror"], bool):  # a yes/no setting before "auto" existed
            data["mirror"] = "on" if data["mirror"] else "off"
        return cls(**data)

    def differences(self, other: TrainConfig) -> list[str]:
        """Names of the fields whose values differ (for --resume with other settings)."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [k for k in mine if mine[k] != theirs[k]]
