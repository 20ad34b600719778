"""Hostile and odd uploads, generated on the fly, each with the answer the API documents.

`CASES` is the table the input tests walk: a name, a function making the bytes, and the status
of POST /v1/score (README, Service: 413 too large, 415 not a supported image, 422 malformed; 200
for odd but real images, which must be scored like any other). In a batch the same status
appears in that item's own result. Decompression bombs are real: their pixel data is a valid
zlib stream of zeros (built from repeated flush blocks, so a 1.2 GB bomb takes milliseconds).

Used by the reliability suite (tests/reliability/conftest.py parametrises over CASES).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

MB = 1024 * 1024


@dataclass(frozen=True)
class Hostile:
    name: str
    make: Callable[[], bytes]
    status: int  # POST /v1/score answer
    filename: str = "photo.jpg"  # what a careless crawler would call it


# ---------------------------------------------------------------------------- building blocks


def photo(size: tuple[int, int] = (96, 64), mode: str = "RGB", fmt: str = "PNG", **save) -> bytes:
    """Smooth colour blobs (photo-like, compresses like a photo), in any mode and format."""
    rng = np.random.default_rng(size[0] * 7919 + size[1])
    coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
    if mode != "RGB":
        img = img.convert(mode)
    buf = io.BytesIO()
    img.save(buf, fmt, **save)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def zeros_zlib(n: int, block: int = 4 * MB) -> bytes:
    """A valid zlib stream that inflates to `n` zero bytes, built without deflating them all:
    after a full flush the compressor's output for the same block repeats byte for byte."""
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    zero = bytes(block)
    first = raw.compress(zero) + raw.flush(zlib.Z_FULL_FLUSH)
    again = raw.compress(zero) + raw.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(n, block)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = (first if whole else b"") + again * max(0, whole - 1)
    body += tail.compress(bytes(rest)) + tail.flush() if rest else _empty_final_block()
    adler = (n % 65521) << 16 | 1  # adler32 of n zeros: a stays 1, b counts the bytes
    return b"\x78\xda" + body + struct.pack(">I", adler)


def _empty_final_block() -> bytes:
    end = zlib.compressobj(9, zlib.DEFLATED, -15)
    return end.flush()


def png_raw(width: int, height: int, depth: int = 8, colour: int = 2, idat: bytes | None = None):
    """A PNG from its parts; pixel data all zeros unless `idat` is given (16-bit RGB and
    other layouts Pillow cannot write)."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = 1 + width * channels * depth // 8
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    data = idat if idat is not None else zeros_zlib(row * height)
    chunks = _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def png_header_only(width: int, height: int) -> bytes:
    """IHDR claims the size, one empty IDAT: the classic tiny bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")


def png_text_bomb() -> bytes:
    """A small image whose zTXt metadata inflates to 64 MiB."""
    base = photo((32, 32))
    ztxt = _png_chunk(b"zTXt", b"Comment\x00\x00" + zeros_zlib(64 * MB))
    return base[:33] + ztxt + base[33:]  # right after IHDR


def png16_rgb() -> bytes:
    w, h = 64, 48
    px = np.linspace(0, 65535, w * h * 3).astype(">u2").reshape(h, w * 3)
    rows = b"".join(b"\x00" + r.tobytes() for r in px)
    return png_raw(w, h, depth=16, colour=2, idat=zlib.compress(rows))


def png16_grey() -> bytes:
    a = (np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) claims another size."""
    data = bytearray(photo((16, 16), fmt="JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_claiming(width: int, height: int) -> bytes:
    data = bytearray(photo((8, 8), fmt="GIF"))
    data[6:10] = struct.pack("<HH", width, height)  # logical screen size
    return bytes(data)


def tiff_claiming(width: int, height: int) -> bytes:
    """A minimal uncompressed RGB TIFF whose IFD claims `width` x `height` (data: 3 bytes)."""
    entries = [  # tag, type (3 short, 4 long), value
        (256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 2),
        (273, 4, 8 + 2 + 12 * 10 + 4), (277, 3, 3), (278, 4, 1), (279, 4, 3), (284, 3, 1),
    ]  # fmt: skip
    ifd = struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        packed = struct.pack("<HI", value, 0)[:4] if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, 1) + packed
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\x80\x80\x80"


def webp_claiming(width: int, height: int) -> bytes:
    """An extended (VP8X) WebP whose canvas claims the size, with a tiny real frame inside."""
    small = photo((16, 16), fmt="WEBP")
    frame = small[12:]  # the VP8/VP8L chunk of the small picture
    vp8x = (
        b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x + frame
    return b"RIFF" + struct.pack("<I", len(body)) + body


def animated(fmt: str, frames: int, size: tuple[int, int] = (32, 32)) -> bytes:
    """`frames` different frames (a moving bar), so no encoder merges them away."""
    images = []
    for i in range(frames):
        img = Image.new("RGB", size, (i * 7 % 256, 90, 160))
        img.paste((255, 255, 255), (i % size[0], 0, i % size[0] + 1, size[1]))
        images.append(img.convert("P") if fmt == "GIF" else img)
    buf = io.BytesIO()
    options = {"quality": 10, "method": 0} if fmt == "WEBP" else {}
    images[0].save(buf, fmt, save_all=True, append_images=images[1:], duration=20, **options)
    return buf.getvalue()


def with_exif(orientation: int | None = None, raw: bytes | None = None) -> bytes:
    img = Image.open(io.BytesIO(photo((80, 40), fmt="JPEG")))
    if raw is None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        raw = exif.tobytes()
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=raw)
    return buf.getvalue()


def exif_orientation_text() -> bytes:
    """EXIF whose orientation tag (0x0112) is ASCII text instead of a SHORT."""
    text = b"upside down\x00"
    entry = struct.pack("<HHII", 0x0112, 2, len(text), 8 + 2 + 12 + 4)
    return b"Exif\x00\x00II*\x00" + struct.pack("<IH", 8, 1) + entry + bytes(4) + text


def exif_offset_outside() -> bytes:
    """A TIFF-structured EXIF block whose first IFD offset points far past its end."""
    return with_exif(raw=b"Exif\x00\x00II*\x00" + struct.pack("<I", 0x7FFFFFF0) + bytes(16))


def heic(truncate: bool = False) -> bytes:
    from pillow_heif import register_heif_opener  # Pillow writes HEIF only through the plugin

    register_heif_opener()
    data = photo((64, 48), fmt="HEIF")
    return data[: len(data) // 2] if truncate else data


def truncated(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


# ---------------------------------------------------------------------------- the table

CASES: list[Hostile] = [
    # Not images at all, or not whole ones.
    Hostile("zero_bytes", lambda: b"", 422),
    Hostile("truncated_jpeg_header", lambda: truncated(photo((640, 480), fmt="JPEG"), 0.02), 415),
    Hostile("truncated_jpeg_half", lambda: truncated(photo((640, 480), fmt="JPEG"), 0.5), 415),
    Hostile("truncated_png", lambda: truncated(photo((200, 200)), 0.5), 415, "photo.png"),
    Hostile("random_bytes", lambda: np.random.default_rng(1).bytes(50_000), 415),
    Hostile("jpeg_magic_then_noise", lambda: b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40, 415),
    Hostile("html", lambda: b"<!doctype html><html><body><img src=x onerror=alert(1)>", 415),
    Hostile(
        "svg",
        lambda: (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9e9" '
            b'height="9e9"><rect width="100%" height="100%"/></svg>'
        ),
        415,
    ),
    Hostile("pdf", lambda: b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n", 415),
    Hostile("heic_truncated", lambda: heic(truncate=True), 415, "photo.heic"),
    Hostile("ico", lambda: photo((32, 32), fmt="ICO"), 415, "favicon.jpg"),
    Hostile("png_text_bomb", png_text_bomb, 415, "photo.png"),
    # Decompression bombs: refused from the header, before any pixel is inflated.
    Hostile("png_claims_100000x100000", lambda: png_header_only(100_000, 100_000), 413),
    Hostile("png_bomb_20000x20000", lambda: png_raw(20_000, 20_000), 413, "photo.png"),
    Hostile("png_bomb_9000x9000", lambda: png_raw(9_000, 9_000), 413, "photo.png"),
    Hostile("jpeg_claims_65000x65000", lambda: jpeg_claiming(65_000, 65_000), 413),
    Hostile("gif_claims_65535x65535", lambda: gif_claiming(65_535, 65_535), 413, "a.gif"),
    Hostile("tiff_claims_60000x60000", lambda: tiff_claiming(60_000, 60_000), 413, "a.tif"),
    Hostile("webp_claims_16384x16384", lambda: webp_claiming(16_384, 16_384), 413, "a.webp"),
    # Odd but real images: scored like any other (first frame of an animation).
    Hostile("gif_3000_frames", lambda: animated("GIF", 3000), 200, "a.gif"),
    Hostile("webp_3000_frames", lambda: animated("WEBP", 3000), 200, "a.webp"),
    Hostile("apng_2000_frames", lambda: animated("PNG", 2000), 200, "a.png"),
    Hostile("wide_30000x32", lambda: photo((30_000, 32)), 200),
    Hostile("tall_32x30000", lambda: photo((32, 30_000)), 200),
    # Too small to hold evidence (short side under min_image_side, 32 px by default).
    Hostile("one_pixel", lambda: photo((1, 1)), 422),
    Hostile("wide_30000x10", lambda: photo((30_000, 10)), 422),
    Hostile("tall_10x30000", lambda: photo((10, 30_000)), 422),
    Hostile("cmyk_jpeg", lambda: photo(mode="CMYK", fmt="JPEG"), 200),
    Hostile("png_16bit_grey", png16_grey, 200, "a.png"),
    Hostile("png_16bit_rgb", png16_rgb, 200, "a.png"),
    Hostile("palette_png", lambda: photo(mode="P"), 200, "a.png"),
    Hostile("palette_png_transparent", lambda: photo(mode="P", transparency=0), 200, "a.png"),
    Hostile("one_bit_png", lambda: photo(mode="1"), 200, "a.png"),
    Hostile("grey_alpha_png", lambda: photo(mode="LA"), 200, "a.png"),
    Hostile("float_tiff", lambda: photo(mode="F", fmt="TIFF"), 200, "a.tif"),
    Hostile("exif_orientation_6", lambda: with_exif(6), 200),
    Hostile("exif_orientation_99", lambda: with_exif(99), 200),
    Hostile("exif_orientation_65535", lambda: with_exif(65535), 200),
    Hostile("exif_orientation_text", lambda: with_exif(raw=exif_orientation_text()), 200),
    Hostile("exif_garbage", lambda: with_exif(raw=b"Exif\x00\x00" + bytes(range(200))), 200),
    Hostile("exif_offset_outside", exif_offset_outside, 200),
    Hostile("heic", heic, 200, "photo.heic"),
]

# The biggest image the default limits accept (49 MP in a 140 KB PNG): a memory test, not a
# rejection test. Every decode holds about three copies of its pixels at the peak.
LARGEST_ACCEPTED = Hostile("png_7000x7000", lambda: png_raw(7_000, 7_000), 200, "photo.png")
