"""Fold a flat front label onto a packaging object: a box, a can, a bottle or a stand-up pouch.

Each builder returns an RGBA image of the object on a transparent background, lit from the upper
left; synth_photo places it in a scene. Shading is a product of 1-D profiles, which is cheap and
reads as a curved surface at listing-photo sizes.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from counterscan.datasets.synth_marks import barcode
from counterscan.datasets.synth_products import RGB, Design
from counterscan.datasets.synth_text import draw_fitted

DEPTH = {"tea": 0.3, "medicine": 0.22, "phone_charger": 0.38}  # box depth / front width


def _shade(arr: np.ndarray, col: np.ndarray, row: np.ndarray | None = None) -> np.ndarray:
    """Multiply an (H, W, C) uint8 image's RGB by a column profile (W,) and row profile (H,)."""
    gain = col[None, :, None]  # (1, W, 1)
    if row is not None:
        gain = gain * row[:, None, None]  # (H, W, 1)
    out = arr.astype(np.float32)
    out[..., :3] *= gain
    return np.clip(out, 0, 255).astype(np.uint8)


def _cylinder_profile(w: int) -> np.ndarray:
    """Diffuse falloff to the edges plus a soft specular stripe left of centre. (w,) float32"""
    u = np.linspace(-1, 1, w, dtype=np.float32)
    diffuse = 0.62 + 0.38 * np.sqrt(np.clip(1 - u**2, 0, 1))
    return diffuse + 0.16 * np.exp(-(((u + 0.38) / 0.1) ** 2))


def _cylindrical(label: Image.Image) -> np.ndarray:
    """Resample columns as seen on a cylinder: the print compresses towards both edges."""
    arr = np.asarray(label)
    w = arr.shape[1]
    u = np.linspace(-0.985, 0.985, w)
    src = (0.5 + np.arcsin(u) / np.arcsin(0.985) / 2) * (w - 1)  # (w,) source column
    return arr[:, np.round(src).astype(np.intp)]


def _box(label: Image.Image, design: Design) -> Image.Image:
    W, H = label.size
    D = round(W * DEPTH.get(design.kind.name, 0.3))
    ox, oy = round(D * 0.7), round(D * 0.42)  # oblique projection of the depth
    obj = Image.new("RGBA", (W + ox, H + oy), (0, 0, 0, 0))
    b = design.brand
    # Side panel: the base colour, the brand name running upwards, a barcode.
    side = Image.new("RGBA", (D, H), (*b.secondary, 255))
    sd = ImageDraw.Draw(side)
    sd.rectangle((0, 0, D, H * 0.06), fill=b.primary)
    vertical = Image.new("RGBA", (round(H * 0.6), D), (0, 0, 0, 0))
    draw_fitted(
        ImageDraw.Draw(vertical),
        (H * 0.3, D * 0.45),
        design.brand_text,
        design.brand_font,
        (H * 0.55, D * 0.5),
        b.primary,
    )
    side.alpha_composite(vertical.rotate(90, expand=True), (0, round(H * 0.1)))
    code = barcode(round(D * 0.8), round(min(D * 0.55, H * 0.2)), _ean(design))
    side.alpha_composite(
        code.rotate(90, expand=True), (round(D * 0.2), round(H * 0.93 - code.width))
    )
    side_arr = _shade(np.asarray(side), np.full(D, 0.72, np.float32))
    side_img = Image.fromarray(side_arr, "RGBA").transform(
        (ox, H + oy), Image.AFFINE, (D / ox, 0, 0, oy / ox, 1, -oy), Image.BILINEAR
    )
    obj.alpha_composite(side_img, (W, 0))
    # Top flap: lighter, with the flap seam.
    top = Image.new("RGBA", (W, D), (*_lighter(b.primary if b.layout == 0 else b.secondary), 255))
    ImageDraw.Draw(top).line((0, D * 0.25, W, D * 0.25), fill=(0, 0, 0, 60), width=1)
    top_img = top.transform(
        (W + ox, oy), Image.AFFINE, (1, ox / oy, -ox, 0, -D / oy, D), Image.BILINEAR
    )
    obj.alpha_composite(top_img, (0, 0))
    obj.paste(label, (0, oy))
    d = ImageDraw.Draw(obj)
    edge = (0, 0, 0, 70)
    d.line((W - 1, oy, W - 1, H + oy - 1), fill=edge)
    d.line((0, oy, W - 1, oy), fill=edge)
    return obj


def _ean(design: Design) -> str:
    """13 digits: Vietnam's GS1 prefix 893, then digits of the lot line."""
    return ("893" + "".join(c for c in design.lot if c.isdigit()) + "0" * 10)[:13]


def _lighter(c: RGB) -> RGB:
    return tuple(min(255, round(x * 1.08 + 10)) for x in c)


def _can(label: Image.Image, design: Design) -> Image.Image:
    W, H = label.size
    e = round(W * 0.18)  # height of the elliptical rim
    body = _cylindrical(label)
    shoulder = np.full((e // 2, W, 3), 215, np.uint8)  # bare metal under the lid
    bulge = np.repeat(body[-1:], e // 2, axis=0)  # the print continues round the bottom
    body = np.concatenate([shoulder, body, bulge], axis=0)
    body = _shade(body, _cylinder_profile(W))
    H += e // 2
    obj = Image.new("RGBA", (W, H + e), (0, 0, 0, 0))
    mask = Image.new("L", (W, H + e), 0)
    md = ImageDraw.Draw(mask)
    md.rectangle((0, e // 2, W - 1, H + e // 2), fill=255)
    md.ellipse((0, H, W - 1, H + e - 1), fill=255)
    obj.paste(Image.fromarray(body), (0, e // 2), mask.crop((0, e // 2, W, e // 2 + body.shape[0])))
    # Lid: a metallic ellipse with a rim.
    lid = np.tile(np.linspace(235, 150, W, dtype=np.float32)[None, :, None], (e, 1, 3))
    lid = Image.fromarray(lid.astype(np.uint8), "RGB")
    lid_mask = Image.new("L", (W, e), 0)
    ImageDraw.Draw(lid_mask).ellipse((0, 0, W - 1, e - 1), fill=255)
    obj.paste(lid, (0, 0), lid_mask)
    d = ImageDraw.Draw(obj)
    d.ellipse((0, 0, W - 1, e - 1), outline=(120, 120, 125, 255), width=2)
    d.ellipse((W * 0.08, e * 0.12, W * 0.92, e * 0.85), outline=(200, 200, 205, 255), width=1)
    return obj


def _bottle(label: Image.Image, design: Design) -> Image.Image:
    W, H = label.size
    cap_h, cap_w = round(H * 0.2), round(W * 0.5)
    obj = Image.new("RGBA", (W, H + cap_h), (0, 0, 0, 0))
    cap = Image.new("RGBA", (W, cap_h + 6), (0, 0, 0, 0))
    cd = ImageDraw.Draw(cap)
    x0 = (W - cap_w) // 2
    cd.rounded_rectangle(
        (x0, 0, x0 + cap_w, cap_h + 5), radius=cap_w // 8, fill=design.brand.primary
    )
    for y in range(4, cap_h, 5):  # grip ridges
        cd.line((x0 + 2, y, x0 + cap_w - 2, y), fill=(0, 0, 0, 40))
    obj.alpha_composite(cap)
    mask = Image.new("L", (W, H), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, W - 1, H - 1), radius=round(W * 0.2), fill=255)
    obj.paste(label, (0, cap_h), mask)
    return Image.fromarray(_shade(np.asarray(obj), _cylinder_profile(W)), "RGBA")


def _pouch(label: Image.Image, design: Design) -> Image.Image:
    W, H = label.size
    seal = round(H * 0.08)
    top_colour = tuple(int(c * 0.85) for c in design.brand.primary)
    obj = Image.new("RGBA", (W, H + seal), (0, 0, 0, 0))
    strip = Image.new("RGBA", (W, seal + 2), (*top_colour, 255))
    sd = ImageDraw.Draw(strip)
    for y in range(2, seal, 3):  # heat-seal crimp lines
        sd.line((0, y, W, y), fill=(0, 0, 0, 45))
    teeth = [(x, 0 if (x // 6) % 2 else 3) for x in range(0, W + 6, 6)]
    tooth_mask = Image.new("L", (W, seal + 2), 0)
    ImageDraw.Draw(tooth_mask).polygon([*teeth, (W, seal + 2), (0, seal + 2)], fill=255)
    obj.paste(strip, (0, 0), tooth_mask)
    mask = Image.new("L", (W, H), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, -20, W - 1, H - 1), radius=round(W * 0.06), fill=255)
    obj.paste(label, (0, seal), mask)
    u = np.linspace(-1, 1, W, dtype=np.float32)
    col = 0.8 + 0.2 * np.sqrt(1 - u**2) + 0.05 * np.sin(u * 9.0)  # bulge and soft wrinkles
    row = np.linspace(1.02, 0.9, H + seal, dtype=np.float32)
    return Image.fromarray(_shade(np.asarray(obj), col, row), "RGBA")


BUILDERS = {"box": _box, "can": _can, "bottle": _bottle, "pouch": _pouch}


def build_object(label: Image.Image, design: Design) -> Image.Image:
    """The packaging object for `design` with `label` as its front print (RGBA)."""
    return BUILDERS[design.kind.package](label, design)
