"""Photos for int8 calibration and for checking what quantization cost, from a dataset folder.

Uses the dataset's `val` split when it has one (photos the model did not train on), else all
photos. Decoding goes through counterscan.images.to_model_input, exactly as in serving.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from counterscan.datasets.reader import Sample, read_dataset
from counterscan.errors import CounterscanError
from counterscan.images import ImageDecodeError, to_model_input
from counterscan.progress import progress_bar

CALIBRATION_CAP = 200  # MinMax ranges settle well before this; more only costs time
EVALUATION_CAP = 1000  # labelled images for the fp32 vs int8 AUC comparison


@dataclass
class CalibrationSet:
    images: np.ndarray  # (N, S, S, 3) uint8, all decodable photos of the pool (up to the cap)
    labels: np.ndarray  # (N,) int 1 = counterfeit
    calibration: np.ndarray  # (M, S, S, 3) uint8, M <= CALIBRATION_CAP, a subset of `images`
    source: str  # "val split" | "all photos"
    skipped: list[str] = field(default_factory=list)  # undecodable photos, "rel: reason"


def _pick(samples: list[Sample], cap: int, seed: int) -> list[Sample]:
    """Up to `cap` samples, random but reproducible, in a stable order."""
    if len(samples) <= cap:
        return list(samples)
    return sorted(random.Random(seed).sample(samples, cap), key=lambda s: s.rel)


def load_calibration_set(
    root: str | Path, image_size: int, *, seed: int = 0, cap: int = EVALUATION_CAP
) -> CalibrationSet:
    dataset = read_dataset(root, require_both=False)
    val = dataset.by_split("val")
    pool, source = (val, "val split") if val else (dataset.samples, "all photos")
    chosen = _pick(pool, cap, seed)
    images, labels, skipped = [], [], []
    for sample in progress_bar(chosen, desc="decoding calibration photos", unit="img", leave=False):
        try:
            images.append(to_model_input(sample.path.read_bytes(), image_size))
        except (ImageDecodeError, OSError) as e:
            skipped.append(f"{sample.rel}: {e}")
            continue
        labels.append(sample.target)
    if not images:
        raise CounterscanError(f"{root}: none of the {len(chosen)} calibration photos decoded")
    stacked = np.stack(images)
    # Calibrate on an evenly spaced subset so both classes are represented like in the pool.
    step = max(1, len(stacked) // CALIBRATION_CAP)
    return CalibrationSet(
        images=stacked,
        labels=np.asarray(labels, dtype=np.int64),
        calibration=stacked[::step][:CALIBRATION_CAP],
        source=source,
        skipped=skipped,
    )
