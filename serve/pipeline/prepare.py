"""Uploaded bytes -> what scoring and storage need: hashes, model input, size; or a rejection
with the HTTP status that names the problem (413 too large, 415 not a supported image, 422
malformed). Shared by the service's pipeline and the offline `counterscan score`; the model
input comes from `counterscan.images.decode_for_model` + `resize_to_square`, the one decode that
training and `counterscan evaluate` use too (tests/test_pixel_parity.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from PIL import Image

from counterscan.hashing import phash, phash_hex, sha256_bytes
from counterscan.images import ImageDecodeError, decode_for_model, resize_to_square
from counterscan.serve.storage.evidence import THUMB_SIDE

if TYPE_CHECKING:
    from counterscan.serve.settings import Settings

T = TypeVar("T")

# ImageDecodeError.kind -> HTTP status
_STATUS = {
    "empty": 422,
    "too_large": 413,
    "not_image": 415,
    "unsupported": 415,
    "truncated": 415,
    "too_small": 422,
}


class ImageRejected(Exception):
    """One image cannot be scored; `status` and `detail` go into the answer as they are."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def to_api(self) -> dict[str, object]:
        return {"status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class Limits:
    max_image_bytes: int
    max_image_pixels: int
    min_image_side: int = 1  # pixels on the short side; smaller images are refused (422)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.max_image_bytes, settings.max_image_pixels, settings.min_image_side)


@dataclass(frozen=True)
class Prepared:
    sha256: str
    phash: str  # 16 hex digits
    model_input: np.ndarray  # (S, S, 3) uint8, S = the model's input size
    width: int  # of the photo as displayed (EXIF orientation applied), full resolution
    height: int
    format: str  # e.g. "JPEG"
    # The photo shrunk by a whole factor to a long side of THUMB_SIDE..2x that (or as decoded
    # when smaller), RGB, and its grey copy: the perceptual hash, the fingerprint and the
    # thumbnail come from them, so none of them walks the full decode again; kept as Pillow
    # images, which is what all three work on (bench/README.md, 2026-11-30)
    small: Image.Image
    small_grey: Image.Image
    photo: np.ndarray | None  # (H', W', 3) the photo at a reduced size: heat map


def check_size(nbytes: int, limits: Limits) -> None:
    """413 for an image of more than `limits.max_image_bytes`: checked once per image, before
    it is hashed or decoded (the service's pipeline, the offline files' sizes on disk)."""
    if nbytes > limits.max_image_bytes:
        raise ImageRejected(
            413, f"image is {nbytes} bytes, more than the limit of {limits.max_image_bytes}"
        )


def prepare(
    data: bytes,
    input_size: int,
    limits: Limits,
    *,
    sha256: str | None = None,
    photo_side: int = 0,
) -> Prepared:
    """Decode, hash and resize one image (its byte size already checked). Raises ImageRejected.

    `photo_side` > 0 also keeps the photo (heat map), with a short side of at least that many
    pixels (when the photo has them) but not much more, so a batch of 12 MP images does not
    hold 12 MP arrays; 0 keeps none.
    """
    try:
        decoded = decode_for_model(
            data,
            input_size,
            max_pixels=limits.max_image_pixels,
            min_side=limits.min_image_side,
        )
    except ImageDecodeError as e:
        raise ImageRejected(_STATUS.get(e.kind, 415), str(e)) from None
    rgb = decoded.rgb  # (H', W', 3)
    width, height = _displayed_size(decoded.original_size, rgb.shape[1], rgb.shape[0])
    small = _shrink_image(decoded.image or Image.fromarray(rgb), THUMB_SIDE)
    grey = small.convert("L")
    return Prepared(
        sha256=sha256 or sha256_bytes(data),
        phash=phash_hex(phash(grey)),
        model_input=resize_to_square(rgb if decoded.image is None else decoded.image, input_size),
        width=width,
        height=height,
        format=decoded.format,
        small=small,
        small_grey=grey,
        photo=_reduce(rgb, photo_side) if photo_side else None,
    )


def try_prepare(
    data: bytes, input_size: int, limits: Limits, *, sha256: str | None, photo_side: int
) -> Prepared | ImageRejected:
    """`prepare`, with a refusal returned instead of raised (one bad image in a batch)."""
    try:
        return prepare(data, input_size, limits, sha256=sha256, photo_side=photo_side)
    except ImageRejected as e:
        return e


class DecodePool:
    """Threads for decoding and drawing (Pillow releases the GIL), off the event loop."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="decode")

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _reduce(rgb: np.ndarray, side: int) -> np.ndarray:
    """Shrink by a whole factor (fast box filter) while the short side stays >= side."""
    return _box(rgb, min(rgb.shape[:2]) // side)


def shrink(rgb: np.ndarray, side: int) -> np.ndarray:
    """Shrink by a whole factor (fast box filter) while the long side stays >= side. A photo
    that decode_for_model drafted keeps a long side >= 320 = THUMB_SIDE, so this is always
    enough for the thumbnail: it is the whole picture or more than THUMB_SIDE pixels long."""
    return _box(rgb, max(rgb.shape[:2]) // side)


def _shrink_image(image: Image.Image, side: int) -> Image.Image:
    """`shrink` of a Pillow image, without copying it to an array and back (same pixels)."""
    factor = max(image.size) // side
    return image.reduce(factor) if factor >= 2 else image


def _box(rgb: np.ndarray, factor: int) -> np.ndarray:
    if factor < 2:
        return rgb
    return np.asarray(Image.fromarray(rgb).reduce(factor))


def _displayed_size(stored: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    """Full-resolution (width, height) after EXIF rotation: the stored size, swapped when the
    decoded (possibly reduced) picture is turned by 90 degrees relative to it."""
    w0, h0 = stored
    if w0 != h0 and (width > height) != (w0 > h0) and width != height:
        return h0, w0
    return w0, h0
