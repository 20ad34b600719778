"""One epoch of training and one pass of prediction; the loop around them is in train.py.

Batches arrive as (N, 3, H, W) uint8 from data.py and are normalised here with the model
package's `NormalizeUint8`, the very module the ONNX graph starts with, so training and serving
cannot disagree about pixel scaling.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from counterscan.model.preprocess import NormalizeUint8
from counterscan.progress import progress_bar


@dataclass
class EpochStats:
    loss: float  # mean training loss over the photos of this process
    photos: int
    seconds: float


class SmoothedBCE(nn.Module):
    """BCE with logits, counterfeits weighted by pos_weight, targets pulled eps/2 toward 0.5."""

    def __init__(self, pos_weight: float, smoothing: float, device: torch.device) -> None:
        super().__init__()
        self.smoothing = smoothing
        self.bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([pos_weight], device=device))

    def forward(self, logit: Tensor, target: Tensor) -> Tensor:
        target = target * (1.0 - self.smoothing) + 0.5 * self.smoothing
        return self.bce(logit, target)


def lr_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """Multiplier of the peak learning rate at optimizer step `step` (0-based).

    Linear warm-up from ~0 to 1 over `warmup_steps`, then a cosine from 1 down to `min_ratio`
    at `total_steps`; constant at `min_ratio` after that.
    """
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def mix(x: Tensor, y: Tensor, alpha: float) -> tuple[Tensor, Tensor]:
    """Mixup: each photo blended with another of the batch, its target likewise, by one
    weight lam ~ Beta(alpha, alpha) per batch. Draws from torch's global generator, which the
    trainer re-seeds every epoch, so a resumed run mixes the same pairs."""
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    perm = torch.randperm(len(y), device=y.device)
    return lam * x + (1.0 - lam) * x[perm], lam * y + (1.0 - lam) * y[perm]  # (N, 3, H, W), (N,)


def to_input(
    images: Tensor, normalize: NormalizeUint8, device: torch.device, channels_last: bool
) -> Tensor:
    """(N, 3, H, W) uint8 -> (N, 3, H, W) float on `device`, normalised."""
    x = normalize(images.to(device, non_blocking=True).permute(0, 2, 3, 1))  # expects NHWC
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return x.contiguous(memory_format=memory_format)


def train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    loss_fn: nn.Module,
    normalize: NormalizeUint8,
    *,
    device: torch.device,
    channels_last: bool = True,
    grad_clip: float = 0.0,
    mixup: float = 0.0,
    after_step: Callable[[], None] | None = None,
    desc: str = "train",
    progress: bool = True,
) -> EpochStats:
    """One pass over `loader`, one optimizer and scheduler step per batch; `mixup` > 0 blends
    pairs of photos (`mix`); `after_step` runs after each optimizer step (the weight average's
    update)."""
    model.train()
    total_loss, seen = 0.0, 0
    start = time.perf_counter()
    bar = progress_bar(loader, desc=desc, unit="batch", disable=not progress, leave=False)
    for images, targets in bar:
        x = to_input(images, normalize, device, channels_last)  # (N, 3, H, W)
        y = targets.to(device)  # (N,)
        if mixup > 0:
            x, y = mix(x, y, mixup)
        logit = model(x).logit  # (N,)
        loss = loss_fn(logit, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip > 0:
            params = [p for p in model.parameters() if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        scheduler.step()
        if after_step is not None:
            after_step()
        total_loss += float(loss.detach()) * len(y)
        seen += len(y)
        bar.set_postfix(loss=f"{total_loss / seen:.4f}")
    return EpochStats(
        loss=total_loss / max(seen, 1), photos=seen, seconds=time.perf_counter() - start
    )


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    loader: DataLoader,
    normalize: NormalizeUint8,
    *,
    device: torch.device,
    channels_last: bool = True,
    desc: str = "eval",
    progress: bool = True,
) -> np.ndarray:
    """(N,) float64 raw logits for the photos of `loader`, in its order, model in eval mode."""
    model.eval()
    out = []
    for images, _ in progress_bar(
        loader, desc=desc, unit="batch", disable=not progress, leave=False
    ):
        x = to_input(images, normalize, device, channels_last)
        out.append(model(x).logit.float().cpu())
    if not out:
        return np.zeros(0, dtype=np.float64)
    return torch.cat(out).double().numpy()
