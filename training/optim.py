"""The optimizer and its schedule: AdamW over parameter groups, warm-up then cosine decay."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from counterscan.training import engine
from counterscan.training.config import TrainConfig


def param_groups(
    model: nn.Module, weight_decay: float, backbone_lr_ratio: float
) -> list[dict[str, Any]]:
    """No weight decay on BatchNorm parameters and biases (1-D tensors): decaying them only
    fights the normalisation. The pretrained backbone may learn slower than the new head
    (`lr` is scaled per group by the scheduler, so a ratio set here holds throughout)."""
    head = {id(p) for p in model.classifier.parameters()}
    groups = []
    for is_head in (False, True):
        ratio = 1.0 if is_head else backbone_lr_ratio
        params = [p for p in model.parameters() if (id(p) in head) == is_head]
        for decay in (True, False):
            chosen = [p for p in params if (p.ndim > 1) == decay]
            groups.append(
                {
                    "params": chosen,
                    "weight_decay": weight_decay if decay else 0.0,
                    "lr_ratio": ratio,
                }
            )
    return groups


def build_optimizer(
    model: nn.Module, config: TrainConfig, steps_per_epoch: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW with each group at `lr * lr_ratio`, stepped per batch by the warm-up + cosine."""
    groups = param_groups(model, config.weight_decay, config.backbone_lr_ratio)
    for group in groups:
        group["lr"] = config.lr * group["lr_ratio"]
    optimizer = torch.optim.AdamW(groups, lr=config.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: engine.lr_factor(
            step,
            warmup_steps=max(1, round(config.warmup_epochs * steps_per_epoch)),
            total_steps=config.epochs * steps_per_epoch,
            min_ratio=config.min_lr_ratio,
        ),
    )
    return optimizer, scheduler
