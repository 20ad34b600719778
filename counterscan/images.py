"""Torch-free image decoding: the one path from bytes to model input.

Training, `counterscan evaluate`, `counterscan score` and the service all decode with
`decode_for_model` and resize with `resize_to_square`, so the network sees the same pixels
everywhere (tests/test_pixel_parity.py checks it through each of them).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from counterscan.formats import REDUCED_DECODE_FORMATS, SUPPORTED_FORMATS

# HEIC/HEIF (iPhone photos) decode through pillow-heif's Pillow plugin.
try:  # pragma: no cover - exercised whenever pillow-heif is installed (it is a base dependency)
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover
    pass

DEFAULT_MAX_PIXELS = 50_000_000  # 50 MP: above any phone camera, far below a decompression bomb
# Short side (pixels) below which a JPEG is never DCT-scaled when decoded for the model. It is
# also what the service keeps of each photo for its 320 px thumbnail and heat map, so the service
# decodes once for both; a larger model input decodes larger.
DECODE_MIN_SIDE = 320


class ImageDecodeError(ValueError):
    """The bytes are not a usable image. `kind` is a short machine-readable reason."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = (
            kind  # "empty" | "not_image" | "unsupported" | "truncated" | "too_large" | "too_small"
        )


@dataclass(frozen=True)
class DecodedImage:
    rgb: np.ndarray  # (H, W, 3) uint8, EXIF orientation applied
    format: str  # Pillow's format name, e.g. "JPEG"
    original_size: tuple[int, int]  # (width, height) as stored in the file, before any draft
    # The same pixels as Pillow decoded them (mode RGB), so that callers who work on them with
    # Pillow need not copy `rgb` back into an image (serve/pipeline/prepare.py)
    image: Image.Image | None = field(default=None, compare=False, repr=False)


def decode_image(
    data: bytes,
    *,
    target: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = 1,
) -> DecodedImage:
    """Decode bytes into an RGB array.

    `target`: when given, JPEGs much larger than `target` are decoded at reduced size by the
    JPEG decoder itself (DCT scaling, 2-8x faster on phone photos); the result is still at
    least `target` pixels on its short side, so later resizing loses nothing.
    """
    if not data:
        raise ImageDecodeError("empty", "the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise ImageDecodeError("too_large", f"image is too large to decode safely: {e}") from None
    except Image.DecompressionBombWarning as e:
        raise ImageDecodeError("too_large", f"image is too large to decode safely: {e}") from None
    except Exception:
        raise ImageDecodeError("not_image", "not a recognised image file") from None
    fmt = img.format or "unknown"
    if fmt not in SUPPORTED_FORMATS:
        raise ImageDecodeError("unsupported", f"unsupported image format {fmt}")
    width, height = img.size
    if width * height > max_pixels:
        raise ImageDecodeError(
            "too_large", f"image has {width}x{height} pixels, more than the limit of {max_pixels}"
        )
    if min(width, height) < min_side:
        raise ImageDecodeError(
            "too_small", f"image is {width}x{height}, smaller than {min_side} pixels on a side"
        )
    try:
        if target and fmt in REDUCED_DECODE_FORMATS:
            # draft() picks the largest DCT scale (1/2, 1/4, 1/8) that stays >= the request.
            img.draft("RGB", _draft_request(width, height, target))
        img.seek(0)  # animated GIF/WebP/TIFF: first frame only
        img.load()
        img = ImageOps.exif_transpose(img, in_place=False) or img
        rgb = _to_rgb(img)
    except ImageDecodeError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageDecodeError("truncated", f"image data is truncated or corrupt: {e}") from None
    arr = np.asarray(rgb, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ImageDecodeError("unsupported", f"unexpected decoded shape {arr.shape}")
    return DecodedImage(rgb=arr, format=fmt, original_size=(width, height), image=rgb)


def _draft_request(width: int, height: int, target: int) -> tuple[int, int]:
    """Size to ask the JPEG decoder for so that the short side stays >= target."""
    short = min(width, height)
    if short <= target:
        return (width, height)
    scale = target / short
    return (max(1, int(width * scale) + 1), max(1, int(height * scale) + 1))


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any mode (palette, alpha, CMYK, 16-bit, grey) to 8-bit RGB; alpha composited on white."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.float64)
        hi = a.max() if a.size else 1.0
        a = (a / (65535.0 if hi > 255 else 255.0) * 255.0).clip(0, 255).astype(np.uint8)
        return Image.fromarray(a, "L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    return img.convert("RGB")


def resize_to_square(rgb: np.ndarray | Image.Image, size: int) -> np.ndarray:
    """(H, W, 3) uint8 (or the same pixels as an RGB image: no copy into Pillow) -> (size,
    size, 3) uint8: centre-crop to a square, then resize.

    The crop keeps the middle of the photo (where listing photos put the product) and keeps
    the aspect ratio, so shapes the model has learned are not stretched.
    """
    if isinstance(rgb, Image.Image):
        w, h = rgb.size
    else:
        h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    if isinstance(rgb, Image.Image):
        square = rgb.crop((left, top, left + side, top + side))
    else:
        square = Image.fromarray(rgb[top : top + side, left : left + side])
    if side != size:
        square = square.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(square, dtype=np.uint8)


def decode_for_model(
    data: bytes, size: int, *, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = 1
) -> DecodedImage:
    """Decode for a model of input `size`: the one decode every path to the model uses."""
    return decode_image(
        data, target=max(size, DECODE_MIN_SIDE), max_pixels=max_pixels, min_side=min_side
    )


def to_model_input(data: bytes, size: int, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Bytes -> (size, size, 3) uint8, exactly what the ONNX model's input expects per image."""
    return resize_to_square(decode_for_model(data, size, max_pixels=max_pixels).rgb, size)
