"""Class-activation map -> PNG overlay on the photo, for inspectors ("why this score").

The model sees the centre square of the photo (see `images.resize_to_square`), so the overlay is
drawn on that same square: a cell is hot where the local evidence points to "counterfeit". The
exported CAM is relu'd before it is scaled to [0, 1] per image (model/export.py), so a photo with
no such evidence gets an all-cool map instead of a stretched picture of noise.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

DISPLAY_SIZE = 448  # side of the overlay in pixels (or less, for smaller photos)

# Colour stops (position, RGB): dark blue -> cyan -> green -> yellow -> red, like "jet".
_STOPS = (
    (0.00, (0, 0, 140)),
    (0.25, (0, 160, 255)),
    (0.50, (40, 220, 80)),
    (0.75, (255, 220, 0)),
    (1.00, (230, 20, 20)),
)


def _colormap() -> np.ndarray:
    """(256, 3) uint8 lookup table interpolated between the stops."""
    x = np.linspace(0.0, 1.0, 256)
    positions = [p for p, _ in _STOPS]
    channels = [np.interp(x, positions, [c[k] for _, c in _STOPS]) for k in range(3)]
    return np.stack(channels, axis=1).round().astype(np.uint8)


COLORMAP = _colormap()


def centre_square(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (S, S, 3), S = min(H, W): the part of the photo the model saw."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return rgb[top : top + side, left : left + side]


def overlay(rgb: np.ndarray, cam: np.ndarray, display_size: int = DISPLAY_SIZE) -> np.ndarray:
    """Photo (H, W, 3) uint8 + CAM (h, w) in [0, 1] -> overlay (D, D, 3) uint8.

    Heat is blended more strongly where it is higher, so cool areas keep the photo readable.
    """
    square = centre_square(rgb)
    side = min(display_size, square.shape[0])
    photo = np.asarray(
        Image.fromarray(square).resize((side, side), Image.Resampling.BILINEAR), dtype=np.float32
    )
    heat = np.clip(np.nan_to_num(cam.astype(np.float32)), 0.0, 1.0)
    # Bilinear upsampling of the coarse grid: (h, w) -> (side, side).
    heat = np.asarray(Image.fromarray(heat).resize((side, side), Image.Resampling.BILINEAR))
    heat = np.clip(heat, 0.0, 1.0)
    colours = COLORMAP[(heat * 255).astype(np.uint8)].astype(np.float32)  # (side, side, 3)
    alpha = (0.15 + 0.5 * heat)[..., None]  # (side, side, 1)
    blended = photo * (1.0 - alpha) + colours * alpha
    return blended.round().clip(0, 255).astype(np.uint8)


def overlay_png(rgb: np.ndarray, cam: np.ndarray, display_size: int = DISPLAY_SIZE) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(overlay(rgb, cam, display_size)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def to_base64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")
