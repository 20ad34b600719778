"""A training run stopped right after an epoch was saved, as if the machine went away: what
`--resume` starts from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


class Killed(Exception):
    """Raised where a real run would have been killed."""


def train_killed_after_epoch_1(data: Path, run_dir: Path, config: Any) -> None:
    """Run `train` and stop it once epoch 1's last.pt is written."""
    from counterscan.training.trainer import train

    def kill(record: dict[str, Any]) -> None:
        if record["epoch"] == 1:
            raise Killed

    with pytest.raises(Killed):
        train(data, run_dir, config, progress=False, on_epoch_end=kill)
