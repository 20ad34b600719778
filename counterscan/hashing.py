"""Content and perceptual hashes, torch-free (the service uses them too).

`phash` is the DCT perceptual hash: grey, 32x32, 2-D DCT, the top-left 8x8 low frequencies
(without the DC term's influence on the median), one bit per coefficient above the median.
Low frequencies survive re-encoding and resizing, so such copies land within a few bits of each
other while unrelated photos differ in about half of the 64 bits (crops and look-alike photos:
see NEAR_DUPLICATE_BITS).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
from PIL import Image

# Hamming distance (of 64 bits) within which re-encoded (q 50-95) and resized (0.5-2x) copies
# of a photo fall: measured at most 6 bits on the 1,175 banknote photos (and on the generated
# photos of tests/datasets/test_data_hashing.py). NOT a near-duplicate test on its own: a 5%
# crop moves the hash by up to 26 bits, and different photos of look-alike objects in the same
# pose come within 0-4 bits. `counterscan data check/split` therefore find near copies with
# `datasets.neardup` (aligned image comparison); this hash is a compact stored fingerprint.
NEAR_DUPLICATE_BITS = 8


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=4)
def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II basis, (n, n): row k holds cos(pi*(2i+1)*k/2n)."""
    i = np.arange(n)
    m = np.cos(np.pi * (2 * i[None, :] + 1) * i[:, None] / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


def phash(image: Image.Image | np.ndarray) -> int:
    """64-bit perceptual hash of an image (PIL image, RGB or grey, or (H, W, 3) uint8 array)."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    grey = np.asarray(image.convert("L").resize((32, 32), Image.Resampling.BOX), dtype=np.float64)
    d = _dct_matrix(32)
    coeffs = (d @ grey @ d.T)[:8, :8]  # (8, 8) lowest frequencies
    flat = coeffs.flatten()
    bits = flat > np.median(flat[1:])
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def phash_hex(h: int) -> str:
    return f"{h:016x}"


def hamming_matrix(hashes: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances of uint64 hashes: (N,) -> (N, N) uint8."""
    x = hashes[:, None] ^ hashes[None, :]
    # popcount over the 8 bytes of each uint64
    as_bytes = x.view(np.uint8).reshape(x.shape[0], x.shape[1], 8)
    return np.unpackbits(as_bytes, axis=2).sum(axis=2, dtype=np.uint8)
