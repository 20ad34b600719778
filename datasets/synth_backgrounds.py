"""Backgrounds of listing photos: wooden table, cloth, marble, studio sweep, white paper, clutter.

Smooth structure comes from low-resolution noise upscaled with Pillow (fast, and the cost does
not grow with detail), fine structure from closed-form patterns.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Size = tuple[int, int]


def _smooth_noise(size: Size, cell: int, rng: np.random.Generator) -> np.ndarray:
    """Value noise with features about `cell` pixels wide. (H, W) float32 in about 0..1."""
    w, h = size
    grid = rng.random((h // cell + 2, w // cell + 2), dtype=np.float32)
    return np.asarray(Image.fromarray(grid, "F").resize((w, h), Image.BICUBIC))


def _colour(rng: np.random.Generator, lo: int, hi: int) -> np.ndarray:
    return rng.integers(lo, hi, 3).astype(np.float32)


def _wood(size: Size, rng: np.random.Generator) -> np.ndarray:
    w, h = size
    base = np.array([[200, 160, 115], [160, 110, 70], [110, 70, 45], [215, 190, 150]], np.float32)
    tone = base[int(rng.integers(len(base)))] * rng.uniform(0.9, 1.1)
    warp = _smooth_noise(size, 60, rng) * rng.uniform(2, 4)
    yy = np.arange(h, dtype=np.float32)[:, None]
    grain = np.sin(yy / rng.uniform(1.5, 3.5) + warp) * 0.5 + 0.5  # (H, W) fine grain along x
    streaks = np.asarray(  # long darker streaks: noise stretched along the grain
        Image.fromarray(rng.random((h // 3 + 2, 4), dtype=np.float32), "F").resize(
            (w, h), Image.BICUBIC
        )
    )
    plank = rng.uniform(70, 140)
    seams = (np.abs((yy + rng.uniform(0, plank)) % plank) < 1.5).astype(np.float32)
    shade = 1 - 0.07 * grain - 0.16 * streaks - 0.35 * seams + 0.06 * _smooth_noise(size, 90, rng)
    img = tone * shade[..., None]
    return img.transpose(1, 0, 2)[:h, :w] if (rng.random() < 0.4 and w == h) else img


def _cloth(size: Size, rng: np.random.Generator) -> np.ndarray:
    w, h = size
    tone = _colour(rng, 60, 235)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(2.5, 4.5)
    weave = np.sin(xx * 2 * np.pi / period) * np.sin(yy * 2 * np.pi / period)
    folds = _smooth_noise(size, int(rng.integers(50, 120)), rng)
    shade = 0.8 + 0.06 * weave + 0.3 * (folds - 0.5)
    return tone * shade[..., None]


def _marble(size: Size, rng: np.random.Generator) -> np.ndarray:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    turb = _smooth_noise(size, 90, rng) * 2.5 + _smooth_noise(size, 20, rng) * 0.5
    a = rng.uniform(0, np.pi)
    veins = np.abs(np.sin((xx * np.cos(a) + yy * np.sin(a)) / rng.uniform(40, 90) + turb))
    clouds = _smooth_noise(size, 60, rng)
    shade = 1 - 0.22 * np.exp(-veins * 25) - 0.06 * clouds
    tone = np.array([236, 234, 230], np.float32) * rng.uniform(0.92, 1.02)
    return tone * shade[..., None]


def _sweep(size: Size, rng: np.random.Generator) -> np.ndarray:
    """Studio sweep: a smooth gradient between two light colours."""
    w, h = size
    top, bottom = _colour(rng, 150, 250), _colour(rng, 170, 255)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None] ** rng.uniform(0.6, 1.6)
    img = top * (1 - t) + bottom * t
    return np.broadcast_to(img, (h, w, 3)).copy()


def _paper(size: Size, rng: np.random.Generator) -> np.ndarray:
    tone = np.array([246, 246, 244], np.float32) - rng.uniform(0, 18)
    return tone * (1 - 0.03 * _smooth_noise(size, 120, rng))[..., None]


def _clutter(size: Size, rng: np.random.Generator) -> np.ndarray:
    """A table with other things on it (a phone, a cup, a notebook), out of focus."""
    table = (_wood if rng.random() < 0.5 else _cloth)(size, rng)
    img = Image.fromarray(np.clip(table, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    w, h = size
    for _ in range(int(rng.integers(2, 5))):
        x, y = rng.uniform(-0.1, 1.0) * w, rng.uniform(-0.1, 1.0) * h
        bw, bh = rng.uniform(0.15, 0.4) * w, rng.uniform(0.15, 0.4) * h
        c = tuple(int(v * 0.6 + 50) for v in rng.integers(20, 250, 3))  # muted household colours
        if rng.random() < 0.5:
            d.ellipse((x, y, x + bw, y + bw), fill=c, outline=tuple(v // 2 for v in c), width=3)
        else:
            d.rounded_rectangle((x, y, x + bw, y + bh), radius=int(bw * 0.1), fill=c)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 3.5)))
    return np.asarray(img, np.float32)


KINDS = {
    "wood": _wood,
    "cloth": _cloth,
    "marble": _marble,
    "sweep": _sweep,
    "paper": _paper,
    "clutter": _clutter,
}
WEIGHTS = np.array([0.22, 0.18, 0.12, 0.18, 0.14, 0.16])


def background(size: Size, rng: np.random.Generator) -> np.ndarray:
    """A random background of (width, height) `size`. (H, W, 3) uint8."""
    name = list(KINDS)[int(rng.choice(len(KINDS), p=WEIGHTS / WEIGHTS.sum()))]
    return np.clip(KINDS[name](size, rng), 0, 255).astype(np.uint8)
