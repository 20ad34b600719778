"""Find near-duplicate photos: re-encoded, resized, recoloured or slightly cropped copies.

Why not the 64-bit perceptual hash alone: measured on the banknote photos, a 5% crop moves the
hash by up to 26 of 64 bits, while photos of *different* notes taken in the same pose come as
close as 0-4 bits. No threshold separates the two, so a hash would either miss cropped copies or
call a genuine note and its counterfeit the same photo (and flag a false label conflict).

Two stages instead, both on a 96x96 grey thumbnail kept per photo:

1. Candidates (all pairs, matrix products): cosine similarity of 16x16 mean-centred thumbnails,
   the best over 36 small crops (0-5% off each side) of one photo against the other whole, so
   a cropped copy still lines up. Every measured copy scored >= 0.956 here.
2. Verification (candidates only): a coordinate search over the crop box of each photo (up to
   15% per side) that maximises the correlation of high-pass 32x32 images (then 64x64 for close
   calls), and the correlation of the high-pass 64x64 images at that alignment. High-pass
   keeps print, texture and edges and drops lighting and colour casts; at 64 px it tells apart
   two photos of the same object (they differ in fine detail) from copies of one photo.

Measured on 250 banknote photos with 13 kinds of copies each (re-encoded at q50-95, resized
0.5-2x, cropped 5% centred / one side / one corner / unevenly, recoloured, all at once): all
3,250 copies score 0.946-1.0 (1% below 0.956). Two photos of one note taken in a row score
<= 0.73; photos of two different notes (consecutive serial numbers) in the same pose on the
same background reach 0.93. Hence NEAR_DUPLICATE_SIMILARITY = 0.945.
tests/datasets/test_data_hashing.py repeats this on generated photos. Mirrored or rotated
copies are not detected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from counterscan.box_ascent import ascend_edges
from counterscan.progress import progress_bar

# Aligned high-pass correlation at or above which two photos count as the same photo.
NEAR_DUPLICATE_SIMILARITY = 0.945
# Stage-1 similarity from which a pair is verified; every measured copy scored >= 0.956.
CANDIDATE_SIMILARITY = 0.95
MAX_CROP = 0.15  # the verification search never crops more than this from a side

THUMB_SIDE = 96
_COARSE_SIDE = 16
_MID_SIDE = 32
_FINE_SIDE = 64
_BLUR_RADIUS = 2  # high-pass = image - box blur of this radius (in pixels of the compared size)
_COARSE_STEPS = (0.02, 0.01, 0.005)  # box-edge steps (fraction of the side) at 32 px
_FINE_STEPS = (0.005, 0.0025)  # then at 64 px, for close calls only
_FINE_SEARCH_MARGIN = 0.06  # "close call": within this of the threshold after the 32 px search
_PRUNE_MARGIN = 0.08  # give up when the first, coarsest 32 px search ends this far below it

Box = tuple[float, float, float, float]  # fractions cut from (left, top, right, bottom)
_FULL: Box = (0.0, 0.0, 0.0, 0.0)
_AXIS_CUTS = ((0.0, 0.0), (0.025, 0.0), (0.0, 0.025), (0.05, 0.0), (0.0, 0.05), (0.025, 0.025))
CROP_VARIANTS: tuple[Box, ...] = tuple(
    (left, top, right, bottom) for left, right in _AXIS_CUTS for top, bottom in _AXIS_CUTS
)  # 36 boxes, CROP_VARIANTS[0] is the whole photo


@dataclass(frozen=True)
class NearPair:
    i: int  # indices into the thumbnails given, i < j
    j: int
    similarity: float  # aligned high-pass correlation, NEAR_DUPLICATE_SIMILARITY..1


def thumbnail(rgb: np.ndarray) -> bytes:
    """(H, W, 3) uint8 photo -> 96x96 grey thumbnail (squashed to a square), as raw bytes."""
    grey = Image.fromarray(rgb).convert("L")
    return grey.resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BOX).tobytes()


def _image(thumb: bytes) -> Image.Image:
    return Image.frombytes("L", (THUMB_SIDE, THUMB_SIDE), thumb)


def _pixel_box(box: Box) -> tuple[float, float, float, float]:
    left, top, right, bottom = box
    side = THUMB_SIDE
    return (left * side, top * side, side - right * side, side - bottom * side)


def _coarse_vector(img: Image.Image, box: Box) -> np.ndarray:
    """Mean-centred unit vector of a 16x16 view of `box`: (256,) float32."""
    small = img.resize((_COARSE_SIDE,) * 2, Image.Resampling.BOX, box=_pixel_box(box))
    x = np.asarray(small, dtype=np.float32).ravel()
    x -= x.mean()
    return x / (np.linalg.norm(x) + 1e-6)


def _highpass_vector(img: Image.Image, box: Box, side: int) -> np.ndarray:
    """Unit vector of `box` resized to side x side minus its box blur: (side*side,) float32."""
    view = img.resize((side, side), Image.Resampling.BILINEAR, box=_pixel_box(box))
    blurred = view.filter(ImageFilter.BoxBlur(_BLUR_RADIUS))
    x = (np.asarray(view, dtype=np.float32) - np.asarray(blurred, dtype=np.float32)).ravel()
    x -= x.mean()
    return x / (np.linalg.norm(x) + 1e-6)


def coarse_variants(thumb: bytes) -> np.ndarray:
    """Stage-1 descriptors of one photo: (36, 256) float32, one row per crop variant."""
    img = _image(thumb)
    return np.stack([_coarse_vector(img, box) for box in CROP_VARIANTS])


def candidate_pairs(
    variants: np.ndarray, threshold: float = CANDIDATE_SIMILARITY
) -> dict[tuple[int, int], tuple[Box, Box]]:
    """Pairs (i < j) whose best crop-variant similarity reaches `threshold`, with the boxes.

    `variants`: (N, 36, 256) from `coarse_variants`. Cost: a (36 N, 256) x (256, N) product in
    row blocks (bounded memory), growing with N squared: about 1 s for 1,200 photos on two
    cores, minutes for 10,000.
    """
    n, k, d = variants.shape
    whole = np.ascontiguousarray(variants[:, 0])  # (N, 256)
    found: dict[tuple[int, int], tuple[float, Box, Box]] = {}
    block = max(1, 4_000_000 // (k * n))  # rows per product: at most 4M similarities (16 MB)
    for start in range(0, n, block):
        stop = min(n, start + block)
        rows_k = variants[start:stop].reshape(-1, d)  # (B*K, 256)
        sims = (rows_k @ whole.T).reshape(stop - start, k, n)  # (B, K, N)
        best_k = sims.argmax(axis=1)  # (B, N): the crop of the row photo that fits best
        best = np.take_along_axis(sims, best_k[:, None], axis=1)[:, 0]  # (B, N)
        rows, cols = np.nonzero(best >= threshold)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if i == c:
                continue
            cropped = CROP_VARIANTS[int(best_k[r, c])]
            key, boxes = ((i, c), (cropped, _FULL)) if i < c else ((c, i), (_FULL, cropped))
            score = float(best[r, c])
            if key not in found or found[key][0] < score:
                found[key] = (score, *boxes)
    return {key: (box_a, box_b) for key, (_, box_a, box_b) in found.items()}


def aligned_similarity(
    thumb_a: bytes,
    thumb_b: bytes,
    box_a: Box = _FULL,
    box_b: Box = _FULL,
    threshold: float = NEAR_DUPLICATE_SIMILARITY,
) -> float:
    """High-pass correlation of two photos at the crop boxes that align them best.

    Stops as soon as the answer to "is it >= threshold?" is known, so a returned value below
    the threshold is exact only up to that question.
    """
    a, b = _image(thumb_a), _image(thumb_b)
    boxes = (box_a, box_b)
    score = _fine_similarity(a, b, boxes)
    if score >= threshold:
        return score  # already aligned: most copies end here
    boxes, mid = _align(a, b, boxes, _MID_SIDE, _COARSE_STEPS[:1])
    if mid < threshold - _PRUNE_MARGIN:
        return score  # copies measured >= 0.916 at this point; distinct photos mostly lower
    boxes, mid = _align(a, b, boxes, _MID_SIDE, _COARSE_STEPS[1:])
    score = max(score, _fine_similarity(a, b, boxes))
    if score >= threshold or score < threshold - _FINE_SEARCH_MARGIN:
        return score
    # Close call: align once more at full detail (measured to add up to 0.02 on copies).
    boxes, _ = _align(a, b, boxes, _FINE_SIDE, _FINE_STEPS)
    return max(score, _fine_similarity(a, b, boxes))


def _fine_similarity(a: Image.Image, b: Image.Image, boxes: tuple[Box, Box]) -> float:
    va = _highpass_vector(a, boxes[0], _FINE_SIDE)
    return float(va @ _highpass_vector(b, boxes[1], _FINE_SIDE))


def _align(
    a: Image.Image, b: Image.Image, boxes: tuple[Box, Box], side: int, steps: tuple[float, ...]
) -> tuple[tuple[Box, Box], float]:
    """Coordinate ascent over the 8 box edges (4 per photo) on high-pass correlation at `side`."""
    images = (a, b)
    return ascend_edges(
        lambda which, box: _highpass_vector(images[which], box, side), _moved, boxes, steps
    )


def _moved(box: Box, edge: int, delta: float) -> Box | None:
    """`box` with one side's cut changed by delta, kept in 0..MAX_CROP; None if unchanged."""
    edges = list(box)
    edges[edge] = min(MAX_CROP, max(0.0, edges[edge] + delta))
    moved: Box = (edges[0], edges[1], edges[2], edges[3])
    return None if moved == box else moved


# Worker-process state: the thumbnails, sent once per worker instead of once per task.
_WORKER_THUMBS: list[bytes] = []


def _init_worker(thumbs: list[bytes]) -> None:
    global _WORKER_THUMBS
    _WORKER_THUMBS = thumbs


def _describe(index: int) -> np.ndarray:
    return coarse_variants(_WORKER_THUMBS[index])


def _verify(job: tuple[int, int, Box, Box, float]) -> float:
    i, j, box_a, box_b, threshold = job
    return aligned_similarity(_WORKER_THUMBS[i], _WORKER_THUMBS[j], box_a, box_b, threshold)


def near_duplicate_pairs(
    thumbs: list[bytes],
    *,
    threshold: float = NEAR_DUPLICATE_SIMILARITY,
    workers: int = 1,
    progress: bool = True,
) -> list[NearPair]:
    """All pairs (i < j) of thumbnails that show the same photo, sorted by (i, j)."""
    if len(thumbs) < 2:
        return []
    if workers <= 1 or len(thumbs) < 32:
        _init_worker(thumbs)
        try:
            return _near_pairs(map, thumbs, threshold, progress)
        finally:
            _init_worker([])
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(thumbs,)) as pool:

        def pool_map(fn: Callable, items: list) -> Iterator:
            return pool.map(fn, items, chunksize=max(1, min(64, len(items) // (workers * 8))))

        return _near_pairs(pool_map, thumbs, threshold, progress)


def _near_pairs(
    map_fn: Callable[[Callable, list], Iterator],
    thumbs: list[bytes],
    threshold: float,
    progress: bool,
) -> list[NearPair]:
    """Both stages, with `map_fn` running the per-photo and per-pair work (maybe in a pool)."""
    indices = list(range(len(thumbs)))
    variants = np.stack(_collect(map_fn(_describe, indices), len(indices), "indexing", progress))
    # a looser verification threshold than the default loosens the candidate filter alike
    candidates = candidate_pairs(
        variants, CANDIDATE_SIMILARITY - max(0.0, NEAR_DUPLICATE_SIMILARITY - threshold)
    )
    jobs = [(i, j, a, b, threshold) for (i, j), (a, b) in sorted(candidates.items())]
    scores = _collect(map_fn(_verify, jobs), len(jobs), "comparing", progress)
    return [
        NearPair(i, j, score)
        for (i, j, *_), score in zip(jobs, scores, strict=True)
        if score >= threshold
    ]


def _collect(results: Iterator, total: int, desc: str, progress: bool) -> list:
    out = []
    with progress_bar(total=total, desc=desc, disable=not progress, leave=False) as bar:
        for result in results:
            out.append(result)
            bar.update()
    return out
