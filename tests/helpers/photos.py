"""Drawn test photos, one drawer per kind, so every test folder draws the same pictures."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image, ImageDraw


def blobs(size: tuple[int, int] = (96, 64), seed: int = 0, cells: int = 4) -> Image.Image:
    """Photo-like smooth colour blobs (a cells x cells colour grid, bicubic-resized)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (cells, cells, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)


def encode(img: Image.Image, fmt: str = "JPEG", **save: Any) -> bytes:
    """Image -> file bytes; JPEGs at quality 90 unless told otherwise."""
    if fmt.upper() in ("JPEG", "JPG"):
        save.setdefault("quality", 90)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save)
    return buf.getvalue()


def labelled_photo(counterfeit: bool, seed: int, size: int = 96) -> Image.Image:
    """Genuine: a blue disc on a smooth background; counterfeit: the same plus a red square.
    A tiny model learns the difference in one short epoch."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(60, 200, (3, 3, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    cx, cy = (int(v) for v in rng.integers(25, size - 25, 2))
    draw.ellipse((cx - 18, cy - 18, cx + 18, cy + 18), fill=(30, 60, 200))
    if counterfeit:
        x, y = (int(v) for v in rng.integers(10, size - 40, 2))
        draw.rectangle((x, y, x + 28, y + 28), fill=(230, 20, 20))
    return img


def detailed_photo(seed: int, size: tuple[int, int] = (240, 200)) -> bytes:
    """A listing-like JPEG with detail at several scales (blobs plus sharp rectangles), which
    similar-case matching can tell apart from other seeds and recognise after edits."""
    rng = np.random.default_rng(seed)
    w, h = size
    pixels = np.asarray(_blobs5(rng, size)).copy()  # (h, w, 3)
    for _ in range(25):
        x, y = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
        pixels[y : y + int(rng.integers(4, 20)), x : x + int(rng.integers(4, 20))] = rng.integers(
            0, 256, 3
        )
    return encode(Image.fromarray(pixels), "JPEG", quality=92)


def _blobs5(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """The 5x5 blob background of `detailed_photo`, drawn from its own random stream."""
    coarse = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
