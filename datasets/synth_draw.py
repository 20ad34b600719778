"""Draw the printed front label of a Design, apply print-level effects (a counterfeit printer's
misregistration, reprint blur, colour shift), and fold the label onto a packaging object
(synth_pack.py). Positions are fractions of the label size so every kind shares one layout.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from counterscan.datasets import synth_marks as marks
from counterscan.datasets.synth_products import RGB, Design
from counterscan.datasets.synth_text import SANS, SANS_BOLD, draw_fitted

LABEL_WIDTH = 240  # px of the printed front; photos scale the finished object anyway
CARDBOARD: RGB = (236, 231, 220)  # unprinted substrate shown by a misregistered label

# (x, y) centres and (w, h) boxes as fractions of the label (W, H), for tall and wide labels.
TALL = {
    "logo": (0.5, 0.11, 0.15),  # x, y, size as a fraction of H
    "brand": (0.5, 0.255, 0.86, 0.1),
    "product": (0.5, 0.355, 0.9, 0.055),
    "tagline": (0.5, 0.415, 0.8, 0.036),
    "icon": (0.5, 0.575, 0.6, 0.2),
    "cert": (0.16, 0.755, 0.2),  # size as a fraction of W
    "net": (0.5, 0.755, 0.3, 0.065),
    "hologram": (0.84, 0.755, 0.24, 0.13),  # w, h as fractions of W
    "origin": (0.5, 0.852, 0.82, 0.05),
    "small": (0.5, 0.918, 0.92, 0.03),
    "lot": (0.5, 0.958, 0.8, 0.026),
}
WIDE = {
    "logo": (0.11, 0.17, 0.22),
    "brand": (0.47, 0.17, 0.56, 0.17),
    "product": (0.34, 0.41, 0.6, 0.11),
    "tagline": (0.34, 0.53, 0.55, 0.075),
    "icon": (0.82, 0.44, 0.3, 0.4),
    "cert": (0.08, 0.74, 0.12),
    "net": (0.47, 0.645, 0.22, 0.08),
    "hologram": (0.88, 0.75, 0.17, 0.1),
    "origin": (0.47, 0.755, 0.5, 0.085),
    "small": (0.5, 0.87, 0.94, 0.055),
    "lot": (0.5, 0.945, 0.7, 0.045),
}


def _luma(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x * (1 - t) + y * t) for x, y in zip(a, b, strict=True))


def _on(background: RGB, ink: RGB) -> RGB:
    """Readable text colour on `background`: the brand's ink, or white/black when it clashes."""
    if abs(_luma(background) - _luma(ink)) > 90:
        return ink
    return (255, 255, 255) if _luma(background) < 140 else (25, 25, 25)


def _dark(*candidates: RGB) -> RGB:
    """The first colour dark enough to carry white text (or a dark green)."""
    return next((c for c in candidates if _luma(c) < 150), (20, 90, 60))


def _paste_centred(img: Image.Image, tile: Image.Image, x: float, y: float) -> None:
    img.paste(tile, (round(x - tile.width / 2), round(y - tile.height / 2)), tile)


def _decorate(d: ImageDraw.ImageDraw, design: Design, W: int, H: int, wide: bool) -> float:
    """Paint the background bands of the brand's layout. Returns the band edge as a fraction of
    H: layout 0 has the band above it, layout 2 below it, layout 1 has no band behind text."""
    b = design.brand
    d.rectangle((0, 0, W, H), fill=b.secondary)
    if b.layout == 0:  # top band
        edge = 0.31 if not wide else 0.33
        d.rectangle((0, 0, W, H * edge), fill=b.primary)
        d.rectangle((0, H * 0.985, W, H), fill=b.primary)
        return edge
    if b.layout == 1:  # diagonal band behind the illustration
        band = _mix(b.primary, b.secondary, 0.55)
        if wide:
            d.polygon([(W * 0.62, 0), (W, 0), (W, H * 0.62), (W * 0.52, H * 0.62)], fill=band)
        else:
            d.polygon([(0, H * 0.47), (W, H * 0.40), (W, H * 0.67), (0, H * 0.74)], fill=band)
        d.rectangle((0, 0, W, H * 0.02), fill=b.accent)
        return 0.0
    # layout 2: bottom wave
    edge = 0.68 if not wide else 0.71
    xs = np.linspace(0, W, 25)
    wave = [(float(x), H * edge + H * 0.025 * np.sin(x / W * 2 * np.pi)) for x in xs]
    d.polygon([*wave, (W, H), (0, H)], fill=b.primary)
    return edge


def _behind(design: Design, edge: float, y: float) -> RGB:
    """The print colour behind text centred at height fraction `y`."""
    b = design.brand
    on_band = (b.layout == 0 and y < edge) or (b.layout == 2 and y > edge + 0.03)
    return b.primary if on_band else b.secondary


def render_label(design: Design, rng: np.random.Generator) -> Image.Image:
    """The flat front print of `design`, RGB, LABEL_WIDTH wide."""
    kind, b = design.kind, design.brand
    W = LABEL_WIDTH if kind.package != "bottle" else round(LABEL_WIDTH * 0.8)
    H = round(W * kind.aspect)
    wide = kind.aspect < 0.9
    pos = WIDE if wide else TALL
    img = Image.new("RGB", (W, H))
    d = ImageDraw.Draw(img)
    edge = _decorate(d, design, W, H, wide)

    x, y, s = pos["logo"]
    size = round(s * H)
    if b.layout == 0:  # on the band: the logo sits on a disc of the label colour
        r = size * 0.56
        d.ellipse((x * W - r, y * H - r, x * W + r, y * H + r), fill=b.secondary)
    tile = marks.logo(size, design.logo_shape, *design.logo_colours, design.logo_letter)
    _paste_centred(img, tile, x * W, y * H)

    def text(key: str, value: str, stem: str) -> None:
        x, y, bw, bh = pos[key]
        colour = _on(_behind(design, edge, y), b.ink)
        draw_fitted(d, (x * W, y * H), value, stem, (bw * W, bh * H), colour)

    text("brand", design.brand_text, design.brand_font)
    text("product", design.product, SANS_BOLD)
    text("tagline", design.tagline, SANS)
    text("net", design.net, SANS_BOLD)
    text("small", design.small_print[0] + " · " + design.small_print[1], SANS)
    text("lot", design.lot, SANS)

    x, y, bw, bh = pos["icon"]
    tile = marks.icon(kind.icon, round(bw * W), round(bh * H), b.primary, b.accent)
    _paste_centred(img, tile, x * W, y * H)
    if design.cert:
        x, y, s = pos["cert"]
        tile = marks.cert_badge(
            round(s * W), design.cert, _dark(b.accent, b.ink), design.cert_rings
        )
        _paste_centred(img, tile, x * W, y * H)
    if design.hologram != "missing":
        x, y, hw, hh = pos["hologram"]
        phase = float(rng.random())  # a hologram's colours change with the light
        tile = marks.hologram(
            round(hw * W), round(hh * W), design.hologram, design.hologram_text, phase
        )
        _paste_centred(img, tile, x * W, y * H)
    x, y, bw, bh = pos["origin"]
    ribbon = _dark(b.ink, b.primary) if b.layout == 2 else _dark(b.accent, b.primary, b.ink)
    tile = marks.origin_ribbon(round(bw * W), round(bh * H), design.origin, ribbon)
    _paste_centred(img, tile, x * W, y * H)
    return _print_effects(img, design)


def _print_effects(img: Image.Image, design: Design) -> Image.Image:
    """What the printing press did: misregistration, hue shift, faded ink, reprint blur."""
    dx, dy, angle = design.label_shift
    if dx or dy or angle:
        W, H = img.size
        img = img.rotate(angle, Image.BILINEAR, translate=(dx * W, dy * H), fillcolor=CARDBOARD)
    if design.print_hue:
        hsv = np.asarray(img.convert("HSV")).copy()  # (H, W, 3) uint8, hue 0..255
        hsv[..., 0] = (hsv[..., 0].astype(np.int16) + round(design.print_hue / 360 * 256)) % 256
        img = Image.fromarray(hsv, "HSV").convert("RGB")
    if design.print_fade:
        arr = np.asarray(img, dtype=np.float32)
        grey = arr.mean(axis=2, keepdims=True)
        f = design.print_fade
        arr = arr * (1 - 0.5 * f) + grey * 0.25 * f + 235 * 0.25 * f  # washed-out ink on paper
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if design.print_blur:
        img = img.filter(ImageFilter.GaussianBlur(design.print_blur))
    return img
