"""Group bootstrap: 95% confidence intervals for ROC-AUC, average precision and accuracy.

Photos of one group (one listing, one physical item, one series) are not independent: a model
that gets one of them right usually gets its near-copies right too. Resampling single photos
would treat three copies as three pieces of evidence and give intervals that are too narrow, so
whole groups are drawn with replacement and their photos move together. A photo without a group
is its own group (`Sample.group_key`, as datasets.reader defines it).

Stratified, not redrawn: the groups are split into three strata by the classes of their photos
(genuine only, counterfeit only, both), and each resample draws as many groups from each
stratum as it has. Every resample then holds both classes whenever the data does, so ROC-AUC
and AP are always defined; each resample costs the same (no retry loop), and no resample is
thrown away, which redrawing would do more often exactly when counterfeit groups are few,
biasing the interval towards the luckier draws. The counts of counterfeit groups being fixed is
also what the evaluation set's design fixes: how many counterfeit items were collected.

The metrics are those of metrics.py, called on each resample's photos (duplicated groups as
duplicated photos), so the intervals measure the very quantities the report prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from counterscan.errors import CounterscanError
from counterscan.training import metrics

RESAMPLES = 1000  # percentile ends of 1000 resamples move by ~0.005 AUC between seeds
SEED = 0  # evaluate and finalize share it: the same scores give the same interval
LEVEL = 0.95
UNIT = "group"
# Below this many groups of a class the interval is flagged: resampling a handful of groups
# cannot show how much a new handful would differ (with one group a class, not at all).
FEW_GROUPS = 10

METRICS: dict[str, Callable[[Any, Any], float | None]] = {
    "roc_auc": metrics.roc_auc,
    "average_precision": metrics.average_precision,
    "accuracy": metrics.accuracy,
}


def check_resamples(resamples: int) -> None:
    """A clear error for a negative count (0 means: no bootstrap)."""
    if resamples < 0:
        raise CounterscanError(
            f"--bootstrap must be 0 (off) or a number of resamples, got {resamples}"
        )


def group_bootstrap(
    y: Any,
    p: Any,
    groups: Sequence[str],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, Any] | None:
    """Percentile intervals of the METRICS over `resamples` group resamples.

    None when there is nothing to resample (0 resamples, no photo, or one class only, where
    ROC-AUC and AP are undefined). Deterministic for a seed: groups are taken in sorted order.
    """
    check_resamples(resamples)
    y = np.asarray(y, dtype=np.int64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if len(groups) != len(y) or len(p) != len(y):
        raise ValueError(f"{len(y)} targets, {len(p)} scores and {len(groups)} groups differ")
    if resamples == 0 or len(y) == 0 or y.min() == y.max():
        return None
    keys, inverse = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    n_groups = len(keys)
    sizes = np.bincount(inverse, minlength=n_groups)
    positives = np.bincount(inverse, weights=y, minlength=n_groups)
    stratum = (positives > 0).astype(np.int64) * 2 + (positives < sizes)  # 1, 2 or 3
    rng = np.random.default_rng(seed)
    drawn = np.concatenate(
        [
            members[rng.integers(0, len(members), size=(resamples, len(members)))]
            for members in (np.flatnonzero(stratum == s) for s in (1, 2, 3))
            if len(members)
        ],
        axis=1,
    )  # (resamples, n_groups) group indices
    order = np.argsort(inverse, kind="stable")  # photos sorted by group
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    values = np.empty((resamples, len(METRICS)))
    for b in range(resamples):
        idx = order[_positions(drawn[b], offsets, sizes)]
        yb, pb = y[idx], p[idx]
        values[b] = [fn(yb, pb) for fn in METRICS.values()]
    tail = (1 - LEVEL) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail], axis=0)
    return {
        **{name: [float(lo[i]), float(hi[i])] for i, name in enumerate(METRICS)},
        "resamples": resamples,
        "groups": n_groups,
        "genuine_groups": int(np.sum(positives < sizes)),
        "counterfeit_groups": int(np.sum(positives > 0)),
        "unit": UNIT,
        "seed": seed,
    }


def _positions(chosen: np.ndarray, offsets: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Positions (in the photos-sorted-by-group order) of every photo of the chosen groups."""
    lengths = sizes[chosen]
    ends = np.cumsum(lengths)
    return np.repeat(offsets[chosen] - ends + lengths, lengths) + np.arange(ends[-1])


def interval_text(ci: dict[str, Any] | None, metric: str, *, resamples: bool = False) -> str:
    """'95% CI 0.851-0.893', plus ', 1000 group resamples of 412 groups' (and a warning when a
    class has few groups) when `resamples`; '' without an interval."""
    if not ci:
        return ""
    lo, hi = ci[metric]
    how = ""
    if resamples:
        how = f", {ci['resamples']} {ci['unit']} resamples of {ci['groups']} groups"
        if min(ci["genuine_groups"], ci["counterfeit_groups"]) < FEW_GROUPS:
            how += f", too few for a reliable interval (under {FEW_GROUPS} groups of a class)"
    return f"{LEVEL:.0%} CI {lo:.3f}-{hi:.3f}{how}"
