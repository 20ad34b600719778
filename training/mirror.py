"""Whether to train with mirror images: decided from the labelled photos themselves.

A mirror image is label-preserving for some goods and not for others: a mirrored shoe looks
like the other shoe of the pair, a mirrored banknote or label shows backwards text that no
listing ever holds. Nobody wants to pass a flag for that, and a dataset rarely says it. But a
dataset whose labeller already put mirrored copies of photos under the same label (as
sneakers-nike's source did, for most photos) has answered the question: mirroring keeps its
labels. So `mirror="auto"` (the default) turns random flips on exactly when at least
MIRROR_SHARE of the training photos have a mirrored copy among the others, and "on"/"off"
override it.

A mirrored copy: the photo flipped left-right, turned by one of ANGLES, matches another
photo (cosine similarity of the grey centres, CENTRE of the side, as 16x16 mean-centred
thumbnails >= MIRROR_SIMILARITY) clearly better than the photo itself turned by any of ANGLES
does (by MIRROR_MARGIN). The turns and the centre crop catch copies that were also rotated
(black corners); the margin keeps symmetric things (a shoe seen from the front, a plain box)
and exact duplicates from counting, as they match both ways. Figures: training/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

THUMB = 16  # thumbnail side: coarse layout only, robust to re-encoding and small shifts
WORK = 64  # photos are shrunk to this (grey) before turning: cheap, and enough for THUMB
CENTRE = 0.6  # the middle of the side compared: a turn about the centre keeps it in view
ANGLES = (-45, -30, -15, 0, 15, 30, 45)  # degrees
MIRROR_SIMILARITY = 0.95
MIRROR_MARGIN = 0.10
MIRROR_SHARE = 0.05  # of the training photos with a mirrored copy -> flips on
CHOICES = ("auto", "on", "off")
MAX_PHOTOS = 6000  # measured on at most this many (seeded sample): memory ~ 2 * 4 * N^2 bytes


@dataclass(frozen=True)
class MirrorDecision:
    use: bool
    setting: str  # the config's value: auto, on or off
    mirrored_share: float | None  # share of photos with a mirrored copy (None: not measured)

    def to_dict(self) -> dict[str, object]:
        return {"use": self.use, "setting": self.setting, "mirrored_share": self.mirrored_share}


def _thumbs(greys: list[Image.Image], angle: float, mirror: bool) -> np.ndarray:
    """WORK x WORK grey photos -> (N, THUMB*THUMB) float32 of their centres, mean-centred,
    unit length; each photo first flipped (mirror) and turned by `angle` degrees."""
    margin = round(WORK * (1 - CENTRE) / 2)
    box = (margin, margin, WORK - margin, WORK - margin)
    out = np.empty((len(greys), THUMB * THUMB), dtype=np.float32)
    for i, grey in enumerate(greys):
        if mirror:
            grey = grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if angle:
            grey = grey.rotate(angle, Image.Resampling.BILINEAR)
        centre = grey.crop(box).resize((THUMB, THUMB), Image.Resampling.BOX)
        out[i] = np.asarray(centre, dtype=np.float32).ravel()
    out -= out.mean(axis=1, keepdims=True)
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-6
    return out


def mirrored_share(images: np.ndarray, labels: np.ndarray) -> float:
    """Share of photos that have a mirrored copy with the same label among the others."""
    if len(images) < 2:
        return 0.0
    if len(images) > MAX_PHOTOS:  # a seeded sample (copies then pair up less often: a floor)
        keep = np.sort(np.random.default_rng(0).choice(len(images), MAX_PHOTOS, replace=False))
        images, labels = images[keep], labels[keep]
    greys = [
        Image.fromarray(rgb).convert("L").resize((WORK, WORK), Image.Resampling.BOX)
        for rgb in images
    ]
    plain = _thumbs(greys, 0, mirror=False)  # (N, D), compared against
    n = len(greys)
    best_mirrored = np.full((n, n), -1.0, dtype=np.float32)  # photo i flipped vs photo j
    best_as_is = np.full((n, n), -1.0, dtype=np.float32)  # photo i unflipped vs photo j
    for angle in ANGLES:
        np.maximum(best_mirrored, _thumbs(greys, angle, mirror=True) @ plain.T, out=best_mirrored)
        np.maximum(best_as_is, _thumbs(greys, angle, mirror=False) @ plain.T, out=best_as_is)
    np.fill_diagonal(best_mirrored, -1.0)  # a photo is not its own copy
    same_label = labels[:, None] == labels[None, :]
    found = (
        (best_mirrored >= MIRROR_SIMILARITY)
        & (best_mirrored - best_as_is >= MIRROR_MARGIN)
        & same_label
    ).any(axis=1)
    return float(found.mean())


def decide(setting: str, images: np.ndarray, labels: np.ndarray) -> MirrorDecision:
    """Flips on or off for this run; "auto" measures the training photos (cached arrays)."""
    if setting != "auto":
        return MirrorDecision(setting == "on", setting, None)
    share = mirrored_share(images, labels)
    return MirrorDecision(share >= MIRROR_SHARE, setting, round(share, 4))
