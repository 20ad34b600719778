"""Content and perceptual hashes, torch-free (the service uses them too).

`phash` is the DCT perceptual hash: grey, 32x32, 2-D DCT, the top-left 8x8 low frequencies
(without the DC term's influence on the median), one bit per coefficient above the median.
Low frequencies survive re-encoding, resizing and small crops, so copies of a photo land within
a few bits of each other while different photos differ in about half of the 64 bits.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
from PIL import Image

# Hamming distance (of 64 bits) at or below which two photos count as near duplicates. Measured
# on re-encoded (q 50-95), resized (0.5-2x) and 5%-cropped copies: copies fall at 0-8 bits,
# distinct photos of one product at 14+ (see tests/datasets/test_hashing.py).
NEAR_DUPLICATE_BITS = 10


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
    """64-bit perceptual hash of an image (PIL image or (H, W, 3) uint8 array)."""
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
