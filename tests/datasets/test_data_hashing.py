"""Content hash, perceptual hash and the near-duplicate search, measured on generated photos.

A copy must be found whatever was done to it (re-encoded at q50-95, resized 0.5-2x, cropped 5%
in any way, recoloured, all at once); a second photo of the same object and a different photo
must not. These are the thresholds `data check` states and `data split` relies on.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from counterscan.datasets import neardup
from counterscan.datasets.neardup import (
    CANDIDATE_SIMILARITY,
    NEAR_DUPLICATE_SIMILARITY,
    aligned_similarity,
    candidate_pairs,
    coarse_variants,
    near_duplicate_pairs,
    thumbnail,
)
from counterscan.hashing import (
    NEAR_DUPLICATE_BITS,
    hamming,
    hamming_matrix,
    phash,
    sha256_bytes,
)
from counterscan.images import decode_image


def _crop(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = img.size
    return img.crop((int(left * w), int(top * h), w - int(right * w), h - int(bottom * h)))


def _resize(img: Image.Image, factor: float) -> Image.Image:
    w, h = img.size
    return img.resize((int(w * factor), int(h * factor)), Image.Resampling.LANCZOS)


def _recolour(img: Image.Image) -> Image.Image:
    return ImageEnhance.Color(ImageEnhance.Brightness(img).enhance(1.15)).enhance(0.7)


# name -> (edit of the PIL image, JPEG quality of the copy)
COPIES: dict[str, tuple[Callable[[Image.Image], Image.Image], int]] = {
    "q50": (lambda im: im, 50),
    "q70": (lambda im: im, 70),
    "q95": (lambda im: im, 95),
    "resize 0.5x": (lambda im: _resize(im, 0.5), 90),
    "resize 0.75x": (lambda im: _resize(im, 0.75), 90),
    "resize 1.5x": (lambda im: _resize(im, 1.5), 90),
    "resize 2x": (lambda im: _resize(im, 2.0), 90),
    "crop 5% centred": (lambda im: _crop(im, 0.025, 0.025, 0.025, 0.025), 90),
    "crop 5% left": (lambda im: _crop(im, 0.05, 0, 0, 0), 90),
    "crop 5% corner": (lambda im: _crop(im, 0.05, 0.05, 0, 0), 90),
    "crop 5% uneven": (lambda im: _crop(im, 0.04, 0.01, 0.01, 0.03), 90),
    "recoloured": (_recolour, 90),
    "crop + 0.6x + q55": (lambda im: _resize(_crop(im, 0.03, 0.02, 0.02, 0.03), 0.6), 55),
}
SEEDS = (1, 2, 3)


def _thumb(data: bytes) -> bytes:
    return thumbnail(decode_image(data, target=128).rgb)


def _similarity(
    a: bytes, b: bytes, threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> tuple[float, float]:
    """(stage-1 similarity, verified similarity) of two encoded photos; the second is exact
    when >= the threshold, else only known to be below it (the search stops early)."""
    ta, tb = _thumb(a), _thumb(b)
    variants = np.stack([coarse_variants(ta), coarse_variants(tb)])
    boxes = candidate_pairs(variants, threshold=-1.0)[(0, 1)]
    coarse = float(max((variants[0] @ variants[1, 0]).max(), (variants[1] @ variants[0, 0]).max()))
    return coarse, aligned_similarity(ta, tb, *boxes, threshold=threshold)


def test_sha256_is_the_content_hash() -> None:
    assert sha256_bytes(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


@pytest.mark.parametrize("name", list(COPIES))
def test_copies_are_near_duplicates(name: str, scene, jpeg) -> None:
    edit, quality = COPIES[name]
    for seed in SEEDS:
        original = scene(seed)
        coarse, verified = _similarity(jpeg(original), jpeg(edit(original), quality=quality))
        assert coarse >= CANDIDATE_SIMILARITY, f"{name}, seed {seed}: stage 1 {coarse:.3f}"
        assert verified >= NEAR_DUPLICATE_SIMILARITY, f"{name}, seed {seed}: {verified:.3f}"


def test_another_photo_of_the_same_object_is_not_a_copy(scene, jpeg, monkeypatch) -> None:
    # the full search (no early stop), to see how far below the threshold a re-shoot stays
    monkeypatch.setattr(neardup, "_PRUNE_MARGIN", 9.0)
    monkeypatch.setattr(neardup, "_FINE_SEARCH_MARGIN", 9.0)
    for seed in SEEDS:
        for shot in (1, 2, 3):
            _, verified = _similarity(jpeg(scene(seed)), jpeg(scene(seed, shot)), threshold=2.0)
            assert verified < NEAR_DUPLICATE_SIMILARITY - 0.2, (seed, shot, verified)


def test_different_photos_are_far_apart(scene, jpeg) -> None:
    photos = [jpeg(scene(seed)) for seed in range(10, 16)]
    for i in range(len(photos)):
        for j in range(i + 1, len(photos)):
            _, verified = _similarity(photos[i], photos[j])
            assert verified < NEAR_DUPLICATE_SIMILARITY, (i, j, verified)


def test_near_duplicate_pairs_finds_exactly_the_copies(scene, jpeg) -> None:
    originals = [scene(seed) for seed in range(20, 26)]
    photos = [jpeg(im) for im in originals]
    photos.append(jpeg(_crop(originals[1], 0.05, 0.0, 0.0, 0.03), quality=60))  # index 6
    photos.append(jpeg(_resize(originals[4], 0.5)))  # index 7
    photos.append(jpeg(scene(22, shot=1)))  # index 8: the same object again, not a copy
    thumbs = [_thumb(p) for p in photos]
    pairs = near_duplicate_pairs(thumbs, workers=1, progress=False)
    assert [(p.i, p.j) for p in pairs] == [(1, 6), (4, 7)]
    assert all(NEAR_DUPLICATE_SIMILARITY <= p.similarity <= 1.0 for p in pairs)
    # 36 thumbnails: large enough for the process pool, which must agree with one process
    repeated = thumbs * 4
    in_pool = near_duplicate_pairs(repeated, workers=2, progress=False)
    assert in_pool == near_duplicate_pairs(repeated, workers=1, progress=False)
    assert len(in_pool) == 9 * 6 + 2 * 16  # each photo with its 3 repeats, each copy pair 4x4


def test_phash_catches_reencoded_and_resized_copies(scene, jpeg) -> None:
    """The 64-bit hash is stored per photo by the service; it survives re-encoding and resizing
    (not crops: that is why `neardup` exists), and different photos land far apart."""
    for seed in SEEDS:
        original = scene(seed)
        base = phash(decode_image(jpeg(original)).rgb)
        for name in ("q50", "q95", "resize 0.5x", "resize 2x", "recoloured"):
            edit, quality = COPIES[name]
            copy = phash(decode_image(jpeg(edit(original), quality=quality)).rgb)
            assert hamming(base, copy) <= NEAR_DUPLICATE_BITS, (seed, name)
    hashes = [phash(scene(seed)) for seed in range(30, 40)]
    far = [hamming(a, b) for k, a in enumerate(hashes) for b in hashes[k + 1 :]]
    assert min(far) > NEAR_DUPLICATE_BITS


def test_hamming_matrix_matches_pairwise_hamming(scene) -> None:
    hashes = [phash(scene(seed)) for seed in range(5)]
    matrix = hamming_matrix(np.array(hashes, dtype=np.uint64))
    for i, a in enumerate(hashes):
        for j, b in enumerate(hashes):
            assert matrix[i, j] == hamming(a, b)
