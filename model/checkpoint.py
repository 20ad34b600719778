"""Checkpoints: weights + config + JSON-able meta (+ optional resume state), one file.

Layout of the saved dict (all plain containers and tensors, so `torch.load(weights_only=True)`
reads it without running any pickled code):

    format        "counterscan-checkpoint"
    version       1
    config        ModelConfig.to_dict()
    meta          JSON-able dict (temperature, thresholds, metrics, manifest_sha256, ...)
    state_dict    the network's weights
    extra_state   whatever the trainer needs to resume (optimizer/scheduler state, epoch, RNG)

Writes go to a temporary file that is renamed over the target, so a run killed mid-save never
leaves a truncated checkpoint behind.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from counterscan.errors import CounterscanError
from counterscan.model.config import ModelConfig
from counterscan.model.network import CounterfeitNet

FORMAT = "counterscan-checkpoint"
VERSION = 1
_PRIMITIVES = (str, int, float, bool, type(None))
_WRAPPER_PREFIXES = ("module.", "_orig_mod.")  # DistributedDataParallel, torch.compile


@dataclass
class Checkpoint:
    model: CounterfeitNet  # in eval mode, on the CPU
    config: ModelConfig
    meta: dict[str, Any] = field(default_factory=dict)
    extra_state: dict[str, Any] = field(default_factory=dict)


def _check_loadable(value: Any, where: str) -> None:
    """Refuse anything weights_only loading would reject, naming where it is (before saving,
    when the mistake is cheap, rather than at resume time)."""
    if isinstance(value, (torch.Tensor, torch.Size, *_PRIMITIVES)):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, _PRIMITIVES):
                raise TypeError(f"checkpoint key {key!r} at {where} is not a primitive")
            _check_loadable(item, f"{where}.{key}")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_loadable(item, f"{where}[{i}]")
        return
    raise TypeError(
        f"checkpoint value at {where} has type {type(value).__name__}; "
        "store tensors, numbers, strings, lists or dicts only (e.g. torch.from_numpy(...))"
    )


def _unwrap_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    inner = getattr(model, "module", model)  # DDP
    inner = getattr(inner, "_orig_mod", inner)  # torch.compile
    state = inner.state_dict()
    for prefix in _WRAPPER_PREFIXES:
        state = {k.removeprefix(prefix): v for k, v in state.items()}
    return {k: v.detach().cpu() for k, v in state.items()}


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    config: ModelConfig,
    meta: dict[str, Any] | None = None,
    **extra_state: Any,
) -> Path:
    """Write a checkpoint atomically. `meta` must be JSON-able; `extra_state` tensors/primitives."""
    path = Path(path)
    try:
        # The JSON round trip also turns float subclasses (numpy.float64 from a fit) into plain
        # floats: torch.load(weights_only=True) refuses numpy scalars, so such a checkpoint
        # could be written but never read back.
        meta = json.loads(json.dumps(meta or {}))
    except (TypeError, ValueError) as e:
        raise TypeError(f"checkpoint meta must be JSON-able: {e}") from None
    _check_loadable(extra_state, "extra_state")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": config.to_dict(),
        "meta": meta,
        "state_dict": _unwrap_state_dict(model),
        "extra_state": extra_state,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_checkpoint_payload(path: str | Path) -> dict[str, Any]:
    """The raw saved dict, validated; raises CounterscanError for anything not ours."""
    path = Path(path)
    if not path.is_file():
        raise CounterscanError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as e:  # pickle errors, zip errors, refused types: all mean "not ours"
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CounterscanError(f"{path} is not a readable checkpoint: {first_line}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CounterscanError(f"{path} is not a counterscan checkpoint")
    if payload.get("version") != VERSION:
        raise CounterscanError(
            f"{path} has checkpoint version {payload.get('version')}, this counterscan reads {VERSION}"
        )
    return payload


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Rebuild the network from a checkpoint (no pretrained download needed), in eval mode."""
    payload = read_checkpoint_payload(path)
    config = ModelConfig.from_dict(payload["config"])
    model = CounterfeitNet(config)
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except RuntimeError as e:
        raise CounterscanError(f"{path}: weights do not fit the network: {e}") from None
    model.eval()
    return Checkpoint(
        model=model,
        config=config,
        meta=dict(payload.get("meta") or {}),
        extra_state=dict(payload.get("extra_state") or {}),
    )
