"""Train and eval transforms (torchvision.transforms.v2) on cached uint8 tensors.

Every photo is decoded once (data.py): validation and test photos exactly as the service sees
them (`to_model_input` at image_size), training photos a little larger (cache_size) so that the
random crop below has room to move. The transforms therefore run on small uint8 tensors and
cost well under a millisecond per photo, next to ~30-60 ms for the network's step.

Augmentations are the mild, label-preserving ones a listing photo can plausibly undergo: a
different framing (crop of 55-100% of the area, aspect 3:4 to 4:3), small tilt, lighting and
white balance. Nothing that could erase or fake the evidence: no mirror image (mirrored text and
logos never occur in listings, and a mirrored logo is itself what a bad copy looks like), no
cut-out, no blur, no strong colour change (a wrong colour can give a counterfeit away).
"""

from __future__ import annotations

import torch
from torchvision.transforms import v2

CROP_SCALE = (0.55, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)
ROTATION_DEGREES = 10.0


def train_transform(image_size: int, mirror: bool = False) -> v2.Compose:
    """(3, S, S) uint8 -> (3, image_size, image_size) uint8, random."""
    return v2.Compose(
        [
            v2.RandomResizedCrop(image_size, scale=CROP_SCALE, ratio=CROP_RATIO, antialias=True),
            *([v2.RandomHorizontalFlip()] if mirror else []),
            v2.RandomApply([v2.RandomRotation(ROTATION_DEGREES)], p=0.3),
            # No hue jitter: it costs more than the rest together (HSV round trip), and a
            # shifted hue can be exactly what gives a counterfeit away.
            v2.ColorJitter(brightness=0.25, contrast=0.25, saturation=0.2),
        ]
    )


def eval_transform(image_size: int) -> v2.Compose:
    """Validation/test photos are cached at exactly image_size; only check the shape."""
    return v2.Compose([_CheckSize(image_size)])


class _CheckSize(torch.nn.Module):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if image.shape[-2:] != (self.size, self.size):
            raise ValueError(f"eval photo is {tuple(image.shape[-2:])}, expected {self.size}")
        return image


def describe(transform: torch.nn.Module) -> list[str]:
    """One line per step of a transform, with its parameters: what the model card lists as the
    augmentation actually used (read from the transform object, so it cannot drift from it)."""
    steps = transform.transforms if isinstance(transform, v2.Compose) else [transform]
    out = []
    for step in steps:
        if isinstance(step, v2.RandomApply):
            inner = "; ".join(line for t in step.transforms for line in describe(t))
            out.append(f"{inner} (applied with p={step.p})")
        else:
            out.append(" ".join(repr(step).split()))
    return out
