"""Small printed marks on synthetic packaging: logo, hologram sticker, certification badge, origin
ribbon, product illustration and barcode. Each returns an RGBA tile that synth_draw pastes.

Shapes are drawn at SS times the size and reduced, because ImageDraw polygons are not antialiased
and a jagged logo would be a cue that has nothing to do with counterfeiting.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from counterscan.datasets.synth_text import CONDENSED_BOLD, SANS, SANS_BOLD, draw_fitted

SS = 3  # supersampling factor
RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)


def _regular(n: int, rot: float = 0.0, inner: float = 1.0) -> list[tuple[float, float]]:
    """Regular polygon (inner == 1) or star (inner < 1) in unit coordinates, point up."""
    steps = n * (2 if inner < 1.0 else 1)
    points = []
    for i in range(steps):
        r = inner if (inner < 1.0 and i % 2) else 1.0
        a = -math.pi / 2 + rot + 2 * math.pi * i / steps
        points.append((r * math.cos(a), r * math.sin(a)))
    return points


def _curve(fx, fy, n: int = 48) -> list[tuple[float, float]]:
    ts = [2 * math.pi * i / n for i in range(n)]
    return [(fx(t), fy(t)) for t in ts]


# Unit-square outlines; the altered ones are what a counterfeiter's redrawn logo looks like.
LOGO_SHAPES = {
    "circle": _curve(math.cos, math.sin),
    "ellipse": _curve(lambda t: math.cos(t), lambda t: 0.72 * math.sin(t)),
    "hexagon": _regular(6, math.pi / 6),
    "pentagon": _regular(5),
    "octagon": _regular(8, math.pi / 8),
    "star": _regular(5, inner=0.5),
    "star6": _regular(6, inner=0.55),
    "diamond": _regular(4),
    "square": _regular(4, math.pi / 4),
    "leaf": _curve(lambda t: 0.55 * math.sin(t) * abs(math.cos(t)) ** 0.2, lambda t: -math.cos(t)),
    "leaf_wide": _curve(lambda t: 0.8 * math.sin(t), lambda t: -math.cos(t)),
    "drop": _curve(lambda t: 0.85 * math.sin(t) * math.sin(t / 2), lambda t: -math.cos(t)),
    "shield": [(-0.85, -0.9), (0.85, -0.9), (0.85, 0.1), (0.0, 1.0), (-0.85, 0.1)],
    "shield_flat": [(-0.85, -0.9), (0.85, -0.9), (0.85, 0.5), (0.0, 0.9), (-0.85, 0.5)],
    "bolt": [(0.2, -1), (-0.6, 0.15), (-0.05, 0.15), (-0.25, 1), (0.6, -0.2), (0.05, -0.2)],
    "bolt_mirror": [(-0.2, -1), (0.6, 0.15), (0.05, 0.15), (0.25, 1), (-0.6, -0.2), (-0.05, -0.2)],
}
# The nearest look-alike (subtle) and a clearly different outline (obvious) for each genuine logo.
SUBTLE_SHAPE = {
    "circle": "octagon", "hexagon": "octagon", "star": "star6", "diamond": "square",
    "leaf": "leaf_wide", "drop": "leaf", "shield": "shield_flat", "bolt": "bolt_mirror",
}  # fmt: skip
OBVIOUS_SHAPE = {
    "circle": "square", "hexagon": "circle", "star": "diamond", "diamond": "circle",
    "leaf": "ellipse", "drop": "square", "shield": "pentagon", "bolt": "circle",
}  # fmt: skip


def _scaled(points: list[tuple[float, float]], cx: float, cy: float, r: float) -> list[tuple]:
    return [(cx + x * r, cy + y * r) for x, y in points]


def logo(size: int, shape: str, fill: RGB, ring: RGB, letter: str) -> Image.Image:
    """The brand logo: a filled outline with a ring colour border and the brand's initial."""
    s = size * SS
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    outline = LOGO_SHAPES[shape]
    d.polygon(_scaled(outline, s / 2, s / 2, s * 0.48), fill=ring)
    d.polygon(_scaled(outline, s / 2, s / 2, s * 0.40), fill=fill)
    if letter:
        draw_fitted(d, (s / 2, s / 2), letter, SANS_BOLD, (s * 0.42, s * 0.42), WHITE)
    return img.reduce(SS)


def hologram(w: int, h: int, style: str, text: str, phase: float = 0.0) -> Image.Image:
    """Security sticker. "genuine": iridescent rainbow with micro-lines; "dull": a printed imitation
    (weak colours, no micro-lines); "flat": plain silver foil."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx / w + yy / h) * 1.6 + phase
    if style == "genuine":
        hue = (t % 1.0) * 255
        sat = np.full_like(t, 120) + 40 * np.sin(xx * 1.3 + yy * 0.9)
        val = 225 + 25 * np.sin((xx - yy) * 1.7)
    elif style == "dull":
        hue = (t * 0.5 % 1.0) * 255
        sat = np.full_like(t, 70)
        val = np.full_like(t, 215)
    else:  # flat foil
        hue = np.zeros_like(t)
        sat = np.zeros_like(t)
        val = 190 + 30 * np.cos(t * 2.0)
    hsv = np.stack([hue, sat, np.clip(val, 0, 255)], axis=-1).astype(np.uint8)  # (h, w, 3)
    tile = Image.fromarray(hsv, "HSV").convert("RGB").convert("RGBA")
    d = ImageDraw.Draw(tile)
    draw_fitted(d, (w / 2, h * 0.52), text, SANS_BOLD, (w * 0.8, h * 0.36), (60, 60, 70))
    mask = Image.new("L", (w * SS, h * SS), 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, w * SS - 1, h * SS - 1), radius=h * SS // 3, fill=255
    )
    tile.putalpha(mask.reduce(SS))
    return tile


def cert_badge(size: int, text: str, colour: RGB, rings: int = 2) -> Image.Image:
    """Round certification badge: white disc, one or two rings, the scheme name inside."""
    s = size * SS
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((0, 0, s - 1, s - 1), fill=colour)
    d.ellipse((s * 0.07, s * 0.07, s * 0.93, s * 0.93), fill=WHITE)
    if rings > 1:
        d.ellipse((s * 0.13, s * 0.13, s * 0.87, s * 0.87), outline=colour, width=max(1, s // 40))
    words = text.replace("-", " ").split()
    if len(words) == 1:
        draw_fitted(d, (s / 2, s / 2), words[0], CONDENSED_BOLD, (s * 0.64, s * 0.36), colour)
    else:
        draw_fitted(d, (s / 2, s * 0.38), words[0], CONDENSED_BOLD, (s * 0.6, s * 0.24), colour)
        draw_fitted(d, (s / 2, s * 0.64), words[1], CONDENSED_BOLD, (s * 0.62, s * 0.2), colour)
    return img.reduce(SS)


def origin_ribbon(w: int, h: int, text: str, colour: RGB) -> Image.Image:
    """Ribbon with a small Vietnamese flag and the origin statement."""
    img = Image.new("RGBA", (w * SS, h * SS), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    H = h * SS
    d.rounded_rectangle((0, 0, w * SS - 1, H - 1), radius=H // 2, fill=colour)
    fx0, fy0, fw, fh = H * 0.35, H * 0.2, H * 0.9, H * 0.6
    d.rectangle((fx0, fy0, fx0 + fw, fy0 + fh), fill=(218, 37, 29))
    star = _scaled(_regular(5, inner=0.38), fx0 + fw / 2, fy0 + fh / 2, fh * 0.36)
    d.polygon(star, fill=(255, 221, 0))
    text_x0 = fx0 + fw + H * 0.25
    box = (w * SS - text_x0 - H * 0.35, H * 0.62)
    draw_fitted(d, (text_x0, H / 2), text, SANS_BOLD, box, WHITE, anchor="lm")
    return img.reduce(SS)


def icon(kind_icon: str, w: int, h: int, main: RGB, accent: RGB) -> Image.Image:
    """The product illustration in the middle of the label (leaves, beans, a capsule...)."""
    s = min(w, h) * SS
    img = Image.new("RGBA", (w * SS, h * SS), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    cx, cy = w * SS / 2, h * SS / 2
    dark = tuple(int(c * 0.6) for c in main)
    if kind_icon == "leaf":
        for dx, rot in ((-0.18, -0.5), (0.18, 0.5), (0.0, 0.0)):
            pts = [(x * 0.55, y) for x, y in LOGO_SHAPES["leaf"]]
            pts = [
                (x * math.cos(rot) - y * math.sin(rot), x * math.sin(rot) + y * math.cos(rot))
                for x, y in pts
            ]
            d.polygon(_scaled(pts, cx + dx * s, cy, s * 0.42), fill=main, outline=dark)
    elif kind_icon == "flower":
        for i in range(5):
            a = 2 * math.pi * i / 5
            px, py = cx + math.cos(a) * s * 0.22, cy + math.sin(a) * s * 0.22
            d.ellipse((px - s * 0.17, py - s * 0.17, px + s * 0.17, py + s * 0.17), fill=main)
        d.ellipse((cx - s * 0.11, cy - s * 0.11, cx + s * 0.11, cy + s * 0.11), fill=accent)
    elif kind_icon == "drop":
        d.polygon(
            _scaled(LOGO_SHAPES["drop"], cx, cy, s * 0.45),
            fill=(250, 252, 255),
            outline=main,
            width=SS * 2,
        )
        d.ellipse(
            (cx - s * 0.12, cy + s * 0.02, cx + s * 0.02, cy + s * 0.16), fill=(225, 235, 250)
        )
    elif kind_icon == "capsule":
        r = s * 0.14
        d.rounded_rectangle((cx - s * 0.45, cy - r, cx + s * 0.05, cy + r), radius=r, fill=main)
        d.rounded_rectangle(
            (cx - s * 0.1, cy - r, cx + s * 0.4, cy + r),
            radius=r,
            fill=WHITE,
            outline=main,
            width=SS,
        )
        d.rectangle((cx - s * 0.1, cy - r, cx + s * 0.02, cy + r), fill=main)
    elif kind_icon == "bolt":
        d.rounded_rectangle(
            (cx - s * 0.3, cy - s * 0.4, cx + s * 0.3, cy + s * 0.4),
            radius=s * 0.08,
            fill=(245, 245, 245),
            outline=(150, 150, 150),
            width=SS,
        )
        d.rounded_rectangle(
            (cx - s * 0.1, cy - s * 0.3, cx + s * 0.1, cy - s * 0.24),
            radius=s * 0.02,
            fill=(60, 60, 60),
        )
        d.polygon(_scaled(LOGO_SHAPES["bolt"], cx, cy + s * 0.06, s * 0.24), fill=main)
    else:  # "bean"
        for dx, dy in ((-0.2, -0.1), (0.18, -0.05), (0.0, 0.2)):
            bx, by = cx + dx * s, cy + dy * s
            d.ellipse(
                (bx - s * 0.17, by - s * 0.24, bx + s * 0.17, by + s * 0.24),
                fill=main,
                outline=dark,
            )
            d.arc(
                (bx - s * 0.1, by - s * 0.22, bx + s * 0.1, by + s * 0.22),
                250,
                110,
                fill=dark,
                width=SS * 2,
            )
    return img.reduce(SS)


def barcode(w: int, h: int, digits: str) -> Image.Image:
    """EAN-13-looking bars (not a valid symbology) with the digits under them."""
    img = Image.new("RGBA", (w, h), (*WHITE, 255))
    d = ImageDraw.Draw(img)
    widths = [1 + (int(c) * 7 + i) % 3 for i, c in enumerate(digits * 2)]
    unit = (w - 8) / (sum(widths) * 1.0)
    x = 4.0
    for i, bw in enumerate(widths):
        if i % 2 == 0:
            x0 = round(x)
            d.rectangle((x0, 2, max(x0, round(x + bw * unit) - 1), h * 0.72), fill=(15, 15, 15))
        x += bw * unit
    draw_fitted(d, (w / 2, h * 0.87), digits, SANS, (w * 0.9, h * 0.22), (15, 15, 15))
    return img
