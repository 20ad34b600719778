"""Checking an exported graph against PyTorch with ONNX Runtime.

Every export runs this before the file is written: two batches of different images through
both, max abs difference per output, failure above the tolerances. Probabilities must agree to
1e-4 (the priority thresholds compare them); embeddings and CAM to 1e-3.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from counterscan.contract import INPUT_NAME, OUTPUT_CAM, OUTPUT_EMBEDDING, OUTPUT_PROB

OUTPUT_NAMES = (OUTPUT_PROB, OUTPUT_EMBEDDING, OUTPUT_CAM)
# Max abs difference, ONNX Runtime vs PyTorch, fp32.
TOLERANCES = {OUTPUT_PROB: 1e-4, OUTPUT_EMBEDDING: 1e-3, OUTPUT_CAM: 1e-3}
PARITY_BATCHES = (1, 5)


def parity_images(batch: int, size: int, seed: int) -> np.ndarray:
    """(batch, size, size, 3) uint8: smooth random blobs plus noise, different per image,
    so that the CAM and the probabilities vary (pure noise gives near-identical outputs)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(batch, 4, 4, 3))
    smooth = np.kron(coarse, np.ones((1, size // 4 + 1, size // 4 + 1, 1)))[:, :size, :size]
    noise = rng.normal(0, 25, size=(batch, size, size, 3))
    return np.clip(smooth + noise, 0, 255).astype(np.uint8)


def make_session(model: bytes | str | Path, threads: int = 2) -> Any:
    """An ONNX Runtime CPU session with explicit thread counts (never "all cores")."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])


def check_parity(
    graph: Callable[[Tensor], tuple[Tensor, ...]],
    session: Any,
    image_size: int,
    batches: tuple[int, ...] = PARITY_BATCHES,
) -> dict[str, float]:
    """Max abs difference per output between ONNX Runtime and PyTorch; raises if out of
    tolerance. Each batch uses different images."""
    worst = dict.fromkeys(OUTPUT_NAMES, 0.0)
    for i, batch in enumerate(batches):
        images = parity_images(batch, image_size, seed=1000 + i)
        with torch.no_grad():
            expected = [t.numpy() for t in graph(torch.from_numpy(images))]
        got = session.run(list(OUTPUT_NAMES), {INPUT_NAME: images})
        for name, want, have in zip(OUTPUT_NAMES, expected, got, strict=True):
            if want.shape != have.shape:
                raise RuntimeError(f"ONNX output {name} has shape {have.shape}, want {want.shape}")
            worst[name] = max(worst[name], float(np.abs(want - have).max()))
    failed = {k: v for k, v in worst.items() if v > TOLERANCES[k]}
    if failed:
        raise RuntimeError(f"ONNX export parity failed (max abs diff > tolerance): {failed}")
    return worst
