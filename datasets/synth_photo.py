"""Photograph a packaging object the way sellers do: on a table, cloth or studio sweep, at an
angle, under uneven light, with a phone camera's blur and noise, saved as a listing JPEG.

Both classes go through exactly this code with the same distributions, so none of these
photographic choices tells a counterfeit from a genuine item.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from counterscan.datasets.synth_text import SANS_BOLD, draw_fitted

SIDES = (320, 336, 352, 368, 384, 400)  # listing photos are a few hundred pixels a side
BADGES = ("FREESHIP", "Chính hãng 100%", "Hàng có sẵn", "Giá tốt", "SALE -30%")


def photo_size(rng: np.random.Generator, scale: float = 1.0) -> tuple[int, int]:
    """(width, height): mostly square, sometimes 4:5 or 5:4 like marketplace thumbnails."""
    w = int(rng.choice(SIDES))
    h = w if rng.random() < 0.6 else int(rng.choice(SIDES))
    return max(32, round(w * scale)), max(32, round(h * scale))


def _homography(src: np.ndarray, dst: np.ndarray) -> tuple[float, ...]:
    """PIL PERSPECTIVE coefficients mapping output (dst) points back to input (src) points."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    return tuple(np.linalg.solve(np.asarray(rows, float), np.asarray(rhs, float)).tolist())


def _place(obj: Image.Image, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """The object warped into the frame: scale, offset, rotation, camera tilt. RGBa (premultiplied)."""
    w, h = size
    frac = rng.uniform(0.55, 0.86)
    s = min(frac * h / obj.height, 0.88 * w / obj.width)
    if s < 0.85:  # shrink first with a filtered resize: the warp alone would alias the print
        obj = obj.resize(
            (max(1, round(obj.width * s * 1.15)), max(1, round(obj.height * s * 1.15))),
            Image.BILINEAR,
        )
        s = 1 / 1.15  # what is left of the scale after the resize
    ow, oh = obj.size
    cx = w / 2 + rng.uniform(-0.07, 0.07) * w
    cy = h / 2 + rng.uniform(-0.05, 0.05) * h
    angle = math.radians(float(np.clip(rng.normal(0, 6), -18, 18)))
    tilt = rng.uniform(-0.07, 0.07)  # keystone: top edge narrower or wider than the bottom
    jitter = rng.uniform(0, 0.04)
    src = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], float)
    corners = (src - [ow / 2, oh / 2]) * s  # (4, 2) centred, scaled
    corners[:2, 0] *= 1 - tilt
    corners[2:, 0] *= 1 + tilt
    corners += rng.uniform(-jitter, jitter, (4, 2)) * [ow * s, oh * s]
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    dst = corners @ rot.T + [cx, cy]
    premult = obj.convert("RGBa")
    return premult.transform(size, Image.PERSPECTIVE, _homography(src, dst), Image.BILINEAR)


def _shadow(alpha: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Soft cast shadow of the object as a multiplier: L image, 255 = no shadow."""
    small = alpha.reduce(4)
    blur = small.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 4.0)))
    dx, dy = rng.uniform(-5, 5), rng.uniform(1, 5)
    blur = blur.transform(small.size, Image.AFFINE, (1, 0, -dx, 0, 1, -dy), Image.BILINEAR)
    lut = np.rint(255 - rng.uniform(0.25, 0.5) * np.arange(256)).astype(np.uint8)
    return blur.resize(alpha.size, Image.BILINEAR).point(lut.tolist())


def _smooth(field: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """A low-resolution (h, w) or (h, w, 3) uint8 field upscaled to `size`: smooth light maps."""
    return Image.fromarray(field).resize(size, Image.BILINEAR)


LIGHT_RANGE = 1.5  # gain maps are stored as gain / LIGHT_RANGE in uint8
_UNDO_RANGE = [min(255, round(v * LIGHT_RANGE)) for v in range(256)] * 3


def _lighting(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Exposure x white balance x directional falloff x vignette, as one smooth gain map."""
    w, h = img.size
    gh, gw = max(2, h // 8), max(2, w // 8)
    yy = np.linspace(-1, 1, gh, dtype=np.float32)[:, None]
    xx = np.linspace(-1, 1, gw, dtype=np.float32)[None, :]
    a = rng.uniform(0, 2 * np.pi)
    ramp = 1 + rng.uniform(0, 0.18) * (np.cos(a) * xx + np.sin(a) * yy)  # (gh, gw)
    vignette = 1 - rng.uniform(0, 0.3) * (xx**2 + yy**2) / 2
    balance = np.array(
        [1 + rng.uniform(-0.07, 0.07), 1.0, 1 + rng.uniform(-0.07, 0.07)], np.float32
    )
    gain = (ramp * vignette)[..., None] * balance * rng.uniform(0.82, 1.12)  # (gh, gw, 3)
    field = np.clip(gain / LIGHT_RANGE * 255 + 0.5, 0, 255).astype(np.uint8)
    return ImageChops.multiply(img, _smooth(field, (w, h))).point(_UNDO_RANGE)


def _glare(alpha: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A soft specular highlight somewhere on the object: L image of light to add."""
    w, h = alpha.size
    box = alpha.getbbox()
    if box is None:
        return Image.new("L", (w, h), 0)
    cx, cy = rng.uniform(box[0], box[2]) / 4, rng.uniform(box[1], box[3]) / 4
    gw, gh = max(2, w // 4), max(2, h // 4)
    yy = np.arange(gh, dtype=np.float32)[:, None] - cy
    xx = np.arange(gw, dtype=np.float32)[None, :] - cx
    r = rng.uniform(0.05, 0.15) * gw
    blob = rng.uniform(40, 110) * np.exp(-(xx**2 / (2 * r**2) + yy**2 / (2 * (r * 0.6) ** 2)))
    return ImageChops.multiply(_smooth(blob.astype(np.uint8), (w, h)), alpha)


def _badge(img: Image.Image, rng: np.random.Generator) -> None:
    """A seller's sticker in a corner (FREESHIP, ...), as marketplaces are full of them."""
    w, h = img.size
    bw, bh = round(w * rng.uniform(0.3, 0.42)), round(h * 0.09)
    x = 6 if rng.random() < 0.5 else w - bw - 6
    y = 6 if rng.random() < 0.7 else h - bh - 6
    colour = [(230, 40, 40), (250, 120, 20), (20, 150, 90)][int(rng.integers(3))]
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((x, y, x + bw, y + bh), radius=bh // 3, fill=colour)
    text = BADGES[int(rng.integers(len(BADGES)))]
    draw_fitted(
        d, (x + bw / 2, y + bh / 2), text, SANS_BOLD, (bw * 0.88, bh * 0.7), (255, 255, 255)
    )


def _crop(table: Image.Image, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A window of the item's table (the seller moves the camera between shots)."""
    w, h = size
    x = int(rng.integers(0, table.width - w + 1))
    y = int(rng.integers(0, table.height - h + 1))
    return table.crop((x, y, x + w, y + h))


def table_size(scale: float) -> int:
    """Side of the per-item background, large enough for every photo size plus some slack."""
    return round(max(SIDES) * scale * 1.2)


def photograph(
    obj: Image.Image, rng: np.random.Generator, table: Image.Image, scale: float = 1.0
) -> Image.Image:
    """One listing photo (RGB) of `obj` (RGBA) on `table`, the item's background: a seller
    shoots all photos of one item on the same surface."""
    w, h = photo_size(rng, scale)
    img = _crop(table, (w, h), rng)
    placed = _place(obj, (w, h), rng).convert("RGBA")  # back from premultiplied
    alpha = placed.getchannel("A")
    img = ImageChops.multiply(img, _shadow(alpha, rng).convert("RGB"))
    img.paste(placed, (0, 0), alpha)
    if rng.random() < 0.35:
        img = ImageChops.add(img, _glare(alpha, rng).convert("RGB"))
    img = _lighting(img, rng)
    if rng.random() < 0.15:
        _badge(img, rng)
    if rng.random() < 0.45:  # focus miss / hand shake
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    return _sensor_noise(img, rng)


def _sensor_noise(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Luminance noise of a small phone sensor (sigma 0-5 grey levels)."""
    sigma = rng.uniform(0, 5)
    noise = np.rint(rng.standard_normal((img.height, img.width), np.float32) * sigma)
    arr = np.asarray(img, np.int16) + noise.astype(np.int16)[..., None]  # (H, W, 3)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def encode_jpeg(img: Image.Image, rng: np.random.Generator) -> bytes:
    """Baseline JPEG, 4:2:0, no optimisation pass: the same bytes every time for the same pixels."""
    buf = io.BytesIO()
    img.save(
        buf,
        "JPEG",
        quality=int(rng.integers(62, 96)),
        subsampling=2,
        optimize=False,
        progressive=False,
    )
    return buf.getvalue()
