"""counterscan.training: fine-tuning, evaluation, calibration, priority thresholds.

`from counterscan.training import train, TrainConfig` works, but lazily: importing this package
(as the CLI does for --help) must not import torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrainConfig", "train"]


def __getattr__(name: str) -> Any:
    if name == "train":
        from counterscan.training.trainer import train

        return train
    if name == "TrainConfig":
        from counterscan.training.config import TrainConfig

        return TrainConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
