"""The image formats counterscan reads: the one table every format decision looks up.

Decoding (`images.py`), dataset folders and `counterscan score` (which files are photos), the
evidence store (can a browser show the original?), exports (file suffix) and the HTTP answers
(MIME types, OpenAPI) all read this table, so adding a format is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageFormat:
    name: str  # Pillow's format name, as `Image.format` reports it
    mime: str
    suffixes: tuple[str, ...]  # lower case, with the dot; the first is the one we write
    browser_viewable: bool  # shown by every current browser as is (else: a JPEG copy)
    reduced_decode: bool  # the decoder can skip detail (JPEG DCT scaling) for a small target


FORMATS: tuple[ImageFormat, ...] = (
    ImageFormat("JPEG", "image/jpeg", (".jpg", ".jpeg", ".jpe"), True, True),
    ImageFormat("MPO", "image/jpeg", (), True, True),  # multi-picture JPEG from some cameras
    ImageFormat("PNG", "image/png", (".png",), True, False),
    ImageFormat("WEBP", "image/webp", (".webp",), True, False),
    ImageFormat("GIF", "image/gif", (".gif",), True, False),
    ImageFormat("BMP", "image/bmp", (".bmp",), True, False),
    ImageFormat("TIFF", "image/tiff", (".tiff", ".tif"), False, False),
    ImageFormat("HEIF", "image/heif", (".heic", ".heif"), False, False),
)
BY_NAME: dict[str, ImageFormat] = {f.name: f for f in FORMATS}

SUPPORTED_FORMATS = frozenset(BY_NAME)
IMAGE_SUFFIXES = frozenset(s for f in FORMATS for s in f.suffixes)
MIME_TYPES = tuple(dict.fromkeys(f.mime for f in FORMATS))  # distinct, in table order
BROWSER_FORMATS = frozenset(f.name for f in FORMATS if f.browser_viewable)
REDUCED_DECODE_FORMATS = frozenset(f.name for f in FORMATS if f.reduced_decode)
UNKNOWN_MIME = "application/octet-stream"


def mime_of(name: str | None) -> str:
    """MIME type of a Pillow format name; `application/octet-stream` when unknown."""
    fmt = BY_NAME.get(name or "")
    return fmt.mime if fmt else UNKNOWN_MIME


def suffix_of(name: str | None, default: str = ".img") -> str:
    """The suffix to write a file of this format under (".jpg" for JPEG and MPO)."""
    fmt = BY_NAME.get(name or "")
    if fmt is None:
        return default
    return fmt.suffixes[0] if fmt.suffixes else BY_NAME["JPEG"].suffixes[0]
