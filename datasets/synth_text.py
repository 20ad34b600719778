"""Text on synthetic packaging: the bundled DejaVu fonts (they carry every Vietnamese glyph).

Fonts use Pillow's basic layout engine on purpose: the text is NFC (precomposed letters such as
"ữ"), which needs no shaping, and the basic engine renders the same pixels whether or not libraqm
is installed, which keeps the generator byte-for-byte deterministic across machines.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont

FONT_DIR = Path(__file__).parent / "fonts"
SANS = "DejaVuSans"
SANS_BOLD = "DejaVuSans-Bold"
SERIF = "DejaVuSerif"
SERIF_BOLD = "DejaVuSerif-Bold"
CONDENSED_BOLD = "DejaVuSansCondensed-Bold"
MONO = "DejaVuSansMono"
# A counterfeit printer's nearest substitute for each face ("wrong font weight").
OTHER_WEIGHT = {
    SANS_BOLD: SANS,
    SANS: SANS_BOLD,
    SERIF_BOLD: SERIF,
    SERIF: SERIF_BOLD,
    CONDENSED_BOLD: SANS,
    MONO: SANS,
}
Colour = tuple[int, int, int] | tuple[int, int, int, int]


@lru_cache(maxsize=512)
def font(stem: str, size: int) -> ImageFont.FreeTypeFont:
    """Cached per process: loading a face costs ~1 ms, and an image uses a dozen."""
    return ImageFont.truetype(
        str(FONT_DIR / f"{stem}.ttf"), max(4, int(size)), layout_engine=ImageFont.Layout.BASIC
    )


def fit_font(text: str, stem: str, max_w: float, max_h: float) -> ImageFont.FreeTypeFont:
    """The largest size of `stem` whose rendering of `text` fits max_w x max_h pixels."""
    size = max(4, int(max_h))
    f = font(stem, size)
    width = f.getlength(text)
    if width > max_w:
        size = max(4, int(size * max_w / width))
        f = font(stem, size)
    return f


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    f: ImageFont.FreeTypeFont,
    fill: Colour,
    anchor: str = "mm",
) -> None:
    """Draw `text` anchored at `xy` (default: its middle), as a label printer would."""
    draw.text((round(xy[0]), round(xy[1])), text, font=f, fill=fill, anchor=anchor)


def draw_fitted(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    stem: str,
    box: tuple[float, float],
    fill: Colour,
    anchor: str = "mm",
) -> None:
    """Draw `text` as large as fits in a box of (width, height) anchored at `xy`."""
    draw_text(draw, xy, text, fit_font(text, stem, box[0], box[1]), fill, anchor)
