"""A photo's fingerprint: what near-duplicate matching compares, kept per stored item.

    grey  (64, 64) uint8   the photo squashed to a square, grey, box-filtered
    hist  (64,)  float32   square roots of a 4x4x4 RGB colour histogram (unit length)

Squashing to a square puts every photo in the same normalised coordinates (0..1 per axis), so a
crop of a photo is an axis-aligned box in its original's coordinates whatever the aspect ratio;
`align.py` searches for that box. The histogram ignores where colours are, so crops, resizing,
re-encoding and small overlays change it little: it picks the candidates worth aligning.

Stored as bytes (`to_bytes`, 4,096 + 128 bytes) in the item's row; the layout has a version byte
so that a later fingerprint can be told apart from this one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

SIDE = 64  # grey thumbnail side (pixels)
HIST_LEVELS = 4  # per RGB channel: 4 * 4 * 4 = 64 bins
HIST_BINS = HIST_LEVELS**3
_HIST_SIDE = 48  # the histogram is taken over a 48x48 copy (2,304 pixels is plenty)
VERSION = 1
_GREY_BYTES = SIDE * SIDE
_HIST_BYTES = HIST_BINS * 2  # float16
BYTES = 1 + _GREY_BYTES + _HIST_BYTES


@dataclass(frozen=True)
class Fingerprint:
    grey: np.ndarray  # (SIDE, SIDE) uint8
    hist: np.ndarray  # (HIST_BINS,) float32, unit L2 norm

    def to_bytes(self) -> bytes:
        return (
            bytes([VERSION])
            + np.ascontiguousarray(self.grey, dtype=np.uint8).tobytes()
            + self.hist.astype("<f2").tobytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        if len(data) != BYTES or data[0] != VERSION:
            raise ValueError(f"not a version-{VERSION} fingerprint ({len(data)} bytes)")
        grey = np.frombuffer(data, np.uint8, _GREY_BYTES, 1).reshape(SIDE, SIDE)
        hist = np.frombuffer(data, "<f2", HIST_BINS, 1 + _GREY_BYTES).astype(np.float32)
        return cls(grey, hist)


def fingerprint(rgb: np.ndarray | Image.Image, grey: Image.Image | None = None) -> Fingerprint:
    """(H, W, 3) uint8 photo or RGB image, any size (a few hundred pixels is plenty) ->
    Fingerprint. `grey`: the photo already converted to mode L, when the caller has it."""
    img = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    grey = (grey or img.convert("L")).resize((SIDE, SIDE), Image.Resampling.BOX)
    small = np.asarray(img.resize((_HIST_SIDE, _HIST_SIDE), Image.Resampling.BOX))
    return Fingerprint(np.asarray(grey, dtype=np.uint8), colour_hist(small))


def colour_hist(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (64,) float32: square roots of bin frequencies, so that the dot
    product of two is their Bhattacharyya coefficient (1 = same colours in the same amounts)."""
    q = rgb.reshape(-1, 3).astype(np.int64) * HIST_LEVELS // 256  # (P, 3) levels 0..3
    idx = (q[:, 0] * HIST_LEVELS + q[:, 1]) * HIST_LEVELS + q[:, 2]
    counts = np.bincount(idx, minlength=HIST_BINS).astype(np.float32)
    return np.sqrt(counts / max(1.0, counts.sum()))
