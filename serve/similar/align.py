"""Line two photos up and say how alike they are: is one a crop (or copy) of the other?

Works on the 64x64 grey fingerprints (fingerprint.py), in normalised coordinates: a box is
(x0, y0, x1, y1) in 0..1 of each photo's width and height. A crop of up to MAX_CROP of each axis
(split in any way between the two sides) is a box in its original.

Two steps, cheap then exact:

1. `QueryViews` + `coarse_scores` (many references at once, matrix products): the reference
   keeps two 12x12 mean-centred views, its middle CENTRE box and the whole photo. The query
   computes, for every crop on a STEP grid, where the reference's middle box would be if the
   query were that crop of it (441 boxes), and which box of the query the whole reference
   would be if the reference were the crop (441 more). The best cosine over these, per
   reference, ranks references and gives a first alignment.
2. `verify` (a few pairs): from that alignment, a coordinate search over the eight box edges
   maximising the correlation of high-pass 32x32 views, then the correlation of high-pass 64x64
   views of the two aligned boxes. High-pass keeps print, edges and texture and drops lighting
   and colour casts; at 64 px it separates copies of one photo from two photos of one product.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from counterscan.box_ascent import ascend_edges
from counterscan.serve.similar.fingerprint import SIDE, Fingerprint

Box = tuple[float, float, float, float]  # (x0, y0, x1, y1), fractions of width and height
Span = tuple[float, float]  # (lo, hi) fractions of one axis

MAX_CROP = 0.2  # of each axis, left + right (top + bottom), that a copy may have lost
STEP = 0.05  # grid of the coarse search; `verify` refines to 0.005
CENTRE: Span = (0.2, 0.8)  # always inside any crop of up to 20% per axis
COARSE = 12  # side of the coarse views: (144,) descriptors
_MID, _FINE = 32, 64  # sides of the high-pass views in `verify`
_STEPS = (0.02, 0.01, 0.005)  # coordinate-search steps (fraction of a side)
WHOLE: Box = (0.0, 0.0, 1.0, 1.0)


def _cuts() -> list[Span]:
    """(cut before, cut after) of one axis on the STEP grid, at most MAX_CROP together."""
    n = round(MAX_CROP / STEP)
    return [(a * STEP, b * STEP) for a in range(n + 1) for b in range(n + 1 - a)]


CUTS = _cuts()  # 15 per axis


@lru_cache(maxsize=4096)
def _area(lo: float, hi: float, n: int) -> np.ndarray:
    """(n, SIDE) float32: row i averages the pixels of cell i of [lo, hi) split into n cells."""
    edges = np.linspace(lo * SIDE, hi * SIDE, n + 1)
    px = np.arange(SIDE)
    overlap = np.minimum(edges[1:, None], px[None, :] + 1) - np.maximum(edges[:-1, None], px)
    m = np.clip(overlap, 0.0, None)
    return (m / np.maximum(m.sum(axis=1, keepdims=True), 1e-9)).astype(np.float32)


def area(span: Span, n: int) -> np.ndarray:
    lo, hi = span
    return _area(round(lo, 4), round(hi, 4), n)


def views(grey: np.ndarray, ys: list[Span], xs: list[Span], n: int) -> np.ndarray:
    """Every box (ys[i] x xs[j]) of a (SIDE, SIDE) image resampled to n x n, mean-centred and
    unit length: (len(ys) * len(xs), n * n) float32, row i * len(xs) + j."""
    ay = np.stack([area(s, n) for s in ys])  # (Y, n, SIDE)
    ax = np.stack([area(s, n) for s in xs])  # (X, n, SIDE)
    rows = (ay @ grey).reshape(-1, SIDE)  # (Y * n, SIDE)
    out = rows @ ax.reshape(-1, SIDE).T  # (Y * n, X * n)
    out = out.reshape(len(ys), n, len(xs), n).transpose(0, 2, 1, 3)  # (Y, X, n, n)
    return _unit(out.reshape(len(ys) * len(xs), n * n))


def _unit(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-6)


def reference_views(fp: Fingerprint) -> np.ndarray:
    """(2, COARSE**2) float32: the CENTRE box and the whole photo, what step 1 compares."""
    grey = fp.grey.astype(np.float32)
    centre = views(grey, [CENTRE], [CENTRE], COARSE)[0]
    whole = views(grey, [(0.0, 1.0)], [(0.0, 1.0)], COARSE)[0]
    return np.stack([centre, whole])


@dataclass(frozen=True)
class QueryViews:
    """The query's side of step 1 (computed once per query, whatever the number of references)."""

    centre: np.ndarray  # (V, d): where a reference's CENTRE box is if the query is its crop
    centre_spans: list[Span]  # per axis, in query coordinates (V = len ** 2)
    boxes: np.ndarray  # (V, d): boxes of the query that a reference cropped from it would be
    box_spans: list[Span]

    @classmethod
    def of(cls, fp: Fingerprint) -> QueryViews:
        grey = fp.grey.astype(np.float32)
        lo, hi = CENTRE
        # The query keeps [a, 1 - b] of its reference: the reference's [lo, hi] is then at
        # ((lo - a) / w, (hi - a) / w) of the query, w = 1 - a - b.
        centre_spans = [((lo - a) / (1 - a - b), (hi - a) / (1 - a - b)) for a, b in CUTS]
        box_spans = [(a, 1.0 - b) for a, b in CUTS]
        return cls(
            views(grey, centre_spans, centre_spans, COARSE),
            centre_spans,
            views(grey, box_spans, box_spans, COARSE),
            box_spans,
        )


def coarse_scores(q: QueryViews, refs: np.ndarray) -> tuple[np.ndarray, list[tuple[Box, Box]]]:
    """refs: (M, 2, d) from `reference_views` -> (M,) best cosine and, per reference, the
    (query box, reference box) pair that showed the same content."""
    a = q.centre @ refs[:, 0].T  # (V, M): query is a crop of the reference
    b = q.boxes @ refs[:, 1].T  # (V, M): reference is a crop of the query
    best_a, best_b = a.argmax(axis=0), b.argmax(axis=0)
    cols = np.arange(refs.shape[0])
    score_a, score_b = a[best_a, cols], b[best_b, cols]
    n = len(CUTS)
    pairs: list[tuple[Box, Box]] = []
    for m in range(refs.shape[0]):
        if score_a[m] >= score_b[m]:
            ys, xs = q.centre_spans[best_a[m] // n], q.centre_spans[best_a[m] % n]
            centre_box = (CENTRE[0], CENTRE[0], CENTRE[1], CENTRE[1])
            pairs.append(_widen((xs[0], ys[0], xs[1], ys[1]), centre_box))
        else:
            ys, xs = q.box_spans[best_b[m] // n], q.box_spans[best_b[m] % n]
            pairs.append(((xs[0], ys[0], xs[1], ys[1]), WHOLE))
    return np.maximum(score_a, score_b), pairs


def _widen(box_q: Box, box_r: Box) -> tuple[Box, Box]:
    """Matching boxes -> the largest matching boxes (the two photos' whole overlap)."""
    out_q, out_r = list(box_q), list(box_r)
    for axis in (0, 1):
        q0, q1 = box_q[axis], box_q[axis + 2]
        r0, r1 = box_r[axis], box_r[axis + 2]
        scale = (r1 - r0) / max(q1 - q0, 1e-6)  # reference units per query unit
        # the whole query axis [0, 1] in reference coordinates, clipped to the reference
        lo_r, hi_r = max(0.0, r0 - q0 * scale), min(1.0, r1 + (1 - q1) * scale)
        out_r[axis], out_r[axis + 2] = lo_r, hi_r
        out_q[axis] = q0 + (lo_r - r0) / scale
        out_q[axis + 2] = q1 + (hi_r - r1) / scale
    return (out_q[0], out_q[1], out_q[2], out_q[3]), (out_r[0], out_r[1], out_r[2], out_r[3])


@lru_cache(maxsize=4)
def _blur(n: int, radius: int = 2) -> np.ndarray:
    """(n, n) box blur (rows sum to 1; fewer neighbours at the edges)."""
    i = np.arange(n)
    m = (np.abs(i[:, None] - i[None, :]) <= radius).astype(np.float32)
    return m / m.sum(axis=1, keepdims=True)


def highpass(grey: np.ndarray, box: Box, n: int) -> np.ndarray:
    """The box resampled to n x n minus its box blur, mean-centred, unit length: (n*n,)."""
    x0, y0, x1, y1 = box
    view = area((y0, y1), n) @ grey @ area((x0, x1), n).T  # (n, n)
    b = _blur(n)
    return _unit((view - b @ view @ b.T).ravel())


def verify(query: Fingerprint, ref: Fingerprint, boxes: tuple[Box, Box]) -> tuple[float, Box]:
    """High-pass correlation (-1..1) of the two photos once aligned, starting from `boxes`
    (from `coarse_scores`), and the box of the reference that the query shows."""
    greys = (query.grey.astype(np.float32), ref.grey.astype(np.float32))
    current, _ = ascend_edges(
        lambda which, box: highpass(greys[which], box, _MID), _moved, boxes, _STEPS
    )
    fine = highpass(greys[0], current[0], _FINE) @ highpass(greys[1], current[1], _FINE)
    return float(fine), current[1]


def _moved(box: Box, edge: int, delta: float) -> Box | None:
    """`box` with one edge moved by delta, or None if that leaves the photo or makes the box
    narrower than 1 - MAX_CROP (then it is no longer a small crop)."""
    edges = list(box)
    edges[edge] = min(1.0, max(0.0, edges[edge] + delta))
    if tuple(edges) == box:
        return None
    if edges[2] - edges[0] < 0.5 or edges[3] - edges[1] < 0.5:
        return None
    return (edges[0], edges[1], edges[2], edges[3])
