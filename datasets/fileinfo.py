"""Decode and hash every photo of a dataset once: the facts `data check` and `data split` need.

Each file is read, decoded with the service's own decoder (`counterscan.images.decode_image`, so a
photo that passes here is one the service and training accept) and summarised: sha256 of the
bytes (exact copies), the 64-bit perceptual hash (reported), and a small grey thumbnail that
`neardup` compares to find near copies. Work runs in a small process pool because decoding is
CPU-bound and processes scale past the GIL; results come back in input order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from counterscan.datasets.neardup import thumbnail
from counterscan.hashing import phash, sha256_bytes
from counterscan.images import DEFAULT_MAX_PIXELS, ImageDecodeError, decode_image
from counterscan.progress import progress_bar

# The perceptual hash only looks at a 32x32 thumbnail, so JPEGs are decoded at reduced size
# (DCT scaling: several times faster on phone photos). The short side stays >= this many pixels.
HASH_DECODE_TARGET = 128
# Reading a file larger than this is refused before decoding (a 50 MP JPEG is ~25 MB).
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class FileInfo:
    path: str  # absolute path, as given
    ok: bool  # decoded without error
    problem: str = ""  # "" | missing | empty | not_image | unsupported | truncated | too_large
    message: str = ""  # human-readable reason when not ok
    n_bytes: int = 0
    sha256: str = ""  # of the bytes; "" when the file could not be read or is empty
    phash: int | None = None  # 64-bit perceptual hash; None unless ok
    width: int = 0  # as stored in the file, before EXIF rotation
    height: int = 0
    format: str = ""  # Pillow's format name, e.g. "JPEG"
    thumb: bytes = b""  # 96x96 grey thumbnail for near-duplicate search (neardup.thumbnail)


def inspect_file(path: str) -> FileInfo:
    """Read, decode and hash one file. Never raises for a bad file: the problem is recorded."""
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            return FileInfo(path, False, "too_large", f"file is {size} bytes", n_bytes=size)
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return FileInfo(path, False, "missing", "file does not exist")
    except OSError as e:
        return FileInfo(path, False, "unreadable", f"cannot read the file: {e.strerror or e}")
    digest = sha256_bytes(data) if data else ""
    try:
        decoded = decode_image(
            data, target=HASH_DECODE_TARGET, max_pixels=DEFAULT_MAX_PIXELS, min_side=1
        )
    except ImageDecodeError as e:
        return FileInfo(path, False, e.kind, str(e), n_bytes=len(data), sha256=digest)
    width, height = decoded.original_size
    return FileInfo(
        path,
        True,
        n_bytes=len(data),
        sha256=digest,
        phash=phash(decoded.rgb),
        width=width,
        height=height,
        format=decoded.format,
        thumb=thumbnail(decoded.rgb),
    )


def default_workers() -> int:
    """One worker per core this process may use, at most 8 (decoding saturates disks beyond)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def inspect_files(
    paths: Sequence[Path | str], *, workers: int = 0, progress: bool = True, desc: str = "decoding"
) -> list[FileInfo]:
    """`inspect_file` on every path (duplicates decoded once), results in input order."""
    unique = list(dict.fromkeys(str(p) for p in paths))
    workers = workers or default_workers()
    bar = progress_bar(
        total=len(unique), desc=desc, unit="photo", disable=not progress, leave=False
    )
    with bar:
        if workers == 1 or len(unique) < 16:
            results = []
            for p in unique:
                results.append(inspect_file(p))
                bar.update()
        else:
            # chunks amortise the inter-process hop (a 384 px JPEG decodes in ~2 ms)
            chunk = max(1, min(32, len(unique) // (workers * 8)))
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = []
                for info in pool.map(inspect_file, unique, chunksize=chunk):
                    results.append(info)
                    bar.update()
    by_path = dict(zip(unique, results, strict=True))
    return [by_path[str(p)] for p in paths]
