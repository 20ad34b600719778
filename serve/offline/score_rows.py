"""One row of `counterscan score` per file: the per-file preparation and the per-batch scoring
that the local path (`score_files.py`) and the Ray path (`score_ray.py`) share, so both give
the same rows, scores and error texts for the same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from counterscan.serve.inference.batching import run_batch
from counterscan.serve.inference.model import Scorer
from counterscan.serve.pipeline.prepare import ImageRejected, Limits, Prepared, check_size, prepare
from counterscan.serve.settings import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_IMAGE_PIXELS

COLUMNS = (
    "path",
    "ok",
    "score",
    "priority",
    "model_version",
    "sha256",
    "phash",
    "width",
    "height",
    "error",
)
# Offline files are the operator's own: a larger byte limit, the same decompression-bomb guard.
LIMITS = Limits(4 * DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_IMAGE_PIXELS)
Row = dict[str, Any]


def prepare_file(path: Path, size: int, limits: Limits) -> Prepared | ImageRejected:
    """One file as `counterscan score` sees it: its model input etc., or why it cannot be scored."""
    try:
        check_size(path.stat().st_size, limits)  # before reading it
        return prepare(path.read_bytes(), size, limits, photo_side=0)
    except OSError as e:
        return ImageRejected(0, f"cannot read the file: {e.strerror or e}")
    except ImageRejected as e:
        return e


def score_prepared(
    scorer: Scorer, paths: list[Path], prepared: list[Prepared | ImageRejected]
) -> list[Row]:
    """One ORT call for the batch's decodable files; a row per file, errors in their rows."""
    good = [p for p in prepared if isinstance(p, Prepared)]
    probs: list[float] = []
    if good:
        probs = [s.prob for s in run_batch(scorer, [p.model_input for p in good])]
    rows = []
    scores = iter(probs)
    for path, p in zip(paths, prepared, strict=True):
        row: Row = dict.fromkeys(COLUMNS)
        row["path"] = str(path)
        if isinstance(p, ImageRejected):
            row.update(ok=False, error=p.detail)
        else:
            score = next(scores)
            row.update(
                ok=True,
                score=round(score, 6),
                priority=scorer.contract.thresholds.priority(score),
                model_version=scorer.model_version,
                sha256=p.sha256,
                phash=p.phash,
                width=p.width,
                height=p.height,
            )
        rows.append(row)
    return rows
