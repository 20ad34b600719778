"""An exponential moving average (EMA) of the model's weights, kept beside the trained model.

Why: on a few thousand photos the weights after any one step carry that step's noise, and the
epoch chosen on a small validation set inherits it. The average over the last few hundred steps
is a smoother model at no extra training cost (one multiply-add per weight per step). When
`TrainConfig.ema_decay` is set, validation, the best checkpoint and the export use the average.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn


class WeightAverage:
    """`average = d * average + (1 - d) * weights` after every optimizer step.

    d = min(decay, n / (n + 1)) with n the updates so far: the plain mean of all weights so far
    until n reaches 1 / (1 - decay), then the exponential average, so the first steps' weights
    (the random head) do not weigh 1 / (1 - decay) times as much as later ones. BatchNorm
    running statistics are averaged the same way; integer buffers (batch counters) are copied.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def current_decay(self) -> float:
        return min(self.decay, self.updates / (self.updates + 1))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        d = self.current_decay()
        live = model.state_dict()
        for name, avg in self.model.state_dict().items():
            value = live[name].detach()
            if avg.is_floating_point():
                avg.lerp_(value, 1.0 - d)  # avg + (1 - d) * (value - avg)
            else:
                avg.copy_(value)
        self.updates += 1

    def state_dict(self) -> dict[str, Tensor | int]:
        """Weights and update count, for last.pt (plain tensors: weights_only loading)."""
        return {"updates": self.updates, **self.model.state_dict()}

    def load_state_dict(self, state: dict[str, Tensor | int]) -> None:
        state = dict(state)
        self.updates = int(state.pop("updates"))
        self.model.load_state_dict(state)  # type: ignore[arg-type]
