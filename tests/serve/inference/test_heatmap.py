"""Heat-map overlay: drawn on the centre square the model saw, hot where the CAM is high."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from counterscan.serve.inference.heatmap import overlay, overlay_png


def test_overlay_covers_the_centre_square() -> None:
    photo = np.full((300, 500, 3), 128, np.uint8)
    out = overlay(photo, np.zeros((2, 2), np.float32))
    assert out.shape == (300, 300, 3) and out.dtype == np.uint8
    big = overlay(np.zeros((1200, 1600, 3), np.uint8), np.zeros((7, 7), np.float32))
    assert big.shape == (448, 448, 3)  # display size cap


def test_hot_cells_are_red_cool_cells_keep_the_photo() -> None:
    photo = np.full((64, 64, 3), 200, np.uint8)
    cam = np.array([[1.0, 0.0], [0.0, 0.0]], np.float32)  # top-left is the evidence
    out = overlay(photo, cam).astype(int)
    hot, cool = out[2, 2], out[60, 60]
    assert hot[0] > hot[2] + 60  # red dominates
    assert np.abs(cool - 200).max() < 110  # mostly the grey photo, lightly tinted blue


def test_png_round_trip_and_bad_values() -> None:
    cam = np.array([[np.nan, 2.0], [-1.0, 0.5]], np.float32)  # clipped, NaN as 0
    png = overlay_png(np.zeros((40, 40, 3), np.uint8), cam)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == (40, 40)
