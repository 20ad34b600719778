"""Align two photos by moving the edges of a box in each: coordinate ascent on a correlation.

Shared by the dataset check's near-duplicate test (neardup.py) and the service's similar-case
matching (serve/similar/align.py). Each describes a box its own way (crop amounts or
coordinates) and computes its own feature vector; this file only owns the search: try every
edge of either box one step in and out, keep a move that raises the correlation by more than
`MIN_GAIN`, repeat until nothing improves, then do the same with the next, smaller step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Box = tuple[float, float, float, float]
MIN_GAIN = 1e-4  # smaller gains are noise; requiring them keeps the search from cycling


def ascend_edges(
    vector: Callable[[int, Box], np.ndarray],
    moved: Callable[[Box, int, float], Box | None],
    boxes: tuple[Box, Box],
    steps: Sequence[float],
) -> tuple[tuple[Box, Box], float]:
    """Coordinate ascent over the 8 box edges (4 per photo).

    vector(which, box): unit feature vector of photo `which` (0 or 1) inside `box`; the score
    is the dot product of the two. moved(box, edge, delta): the box with one edge moved, or
    None when that move is not allowed (or changes nothing). Returns the boxes and the score.
    """
    current = [boxes[0], boxes[1]]
    vecs = [vector(0, current[0]), vector(1, current[1])]
    best = float(vecs[0] @ vecs[1])
    for step in steps:
        improved = True
        while improved:
            improved = False
            for which in (0, 1):
                for edge in range(4):
                    for delta in (step, -step):
                        box = moved(current[which], edge, delta)
                        if box is None:
                            continue
                        vec = vector(which, box)
                        score = float(vec @ vecs[1 - which])
                        if score > best + MIN_GAIN:
                            best, current[which], vecs[which], improved = score, box, vec, True
    return (current[0], current[1]), best
