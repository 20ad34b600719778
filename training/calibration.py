"""Turn validation logits into a calibrated probability and the priority thresholds. Numpy only.

Temperature scaling: the served probability is sigmoid(logit / T), with one scalar T fitted on
the validation split by minimising the negative log-likelihood. It never changes the ranking
(AUC, AP, precision@k are untouched), only how confident the numbers are.

Priority bands (what an inspector's queue shows), chosen on the calibrated validation scores:
- high:   score >= `high`, the lowest cut at which the photos flagged still are at least 90%
          counterfeit (precision >= 0.9) while catching as many counterfeits as possible;
- low:    score <  `low`, where `low` is the highest cut that still keeps 95% of the
          counterfeits at or above it (so the low band holds at most 5% of them);
- medium: everything between.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from counterscan.serve.contract import Thresholds
from counterscan.training.metrics import pr_points, sigmoid

T_MIN, T_MAX = 0.05, 20.0  # search range of the temperature; outside it something is broken
HIGH_PRECISION = 0.9
LOW_RECALL = 0.95


def platt_targets(y: np.ndarray) -> np.ndarray:
    """Targets (N+ + 1)/(N+ + 2) and 1/(N- + 2) instead of 1 and 0 (Platt, 1999).

    With plain 0/1 targets a validation set that the model separates perfectly drives T to 0
    (infinitely confident probabilities). The smoothed targets are what a uniform prior on the
    rate gives; they keep T finite and barely move it on sets that are not separable.
    """
    n_pos = float(y.sum())
    n_neg = float(len(y) - n_pos)
    return np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))


def nll(logits: np.ndarray, targets: np.ndarray, temperature: float) -> float:
    """Mean binary cross-entropy of sigmoid(logits / T) against (possibly soft) targets."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    # log(sigmoid(z)) = -softplus(-z), log(1 - sigmoid(z)) = -softplus(z), both computed stably
    return float(np.mean(targets * np.logaddexp(0, -z) + (1 - targets) * np.logaddexp(0, z)))


def fit_temperature(logits: Any, y: Any, *, iters: int = 80) -> float:
    """The T in [T_MIN, T_MAX] minimising the NLL of sigmoid(logit / T) on (logits, y).

    The loss is convex in a = 1/T (a logistic loss of a * logit), hence unimodal in log T, so a
    golden-section search on log T finds the minimum; 80 steps shrink the interval below 1e-12.
    Returns 1.0 when there is nothing to fit (fewer than 2 samples or a single class).
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.int64).ravel()
    if len(z) < 2 or y.min() == y.max():
        return 1.0
    targets = platt_targets(y)
    lo, hi = math.log(T_MIN), math.log(T_MAX)
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(z, targets, math.exp(a)), nll(z, targets, math.exp(b))
    for _ in range(iters):
        if fa <= fb:  # the minimum lies in [lo, b]
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(z, targets, math.exp(a))
        else:  # the minimum lies in [a, hi]
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(z, targets, math.exp(b))
    return float(math.exp((lo + hi) / 2))


def calibrated(logits: Any, temperature: float) -> np.ndarray:
    """The served probability: sigmoid(logit / T)."""
    return sigmoid(np.asarray(logits, dtype=np.float64) / temperature)


def _below(cut: float, scores: np.ndarray, margin: float = 1e-6) -> float:
    """Halfway between `cut` and the next lower score (or `margin` below it if none)."""
    lower = scores[scores < cut]
    return (cut + float(lower.max())) / 2 if lower.size else max(0.0, cut - margin)


@dataclass(frozen=True)
class ThresholdChoice:
    thresholds: Thresholds
    high_reached: bool  # False: no cut reached the precision target; `high` is 1.0
    high_precision: float | None  # precision of "score >= high" on validation
    high_recall: float  # share of counterfeits at or above `high`
    low_recall: float  # share of counterfeits at or above `low`

    def to_dict(self) -> dict[str, Any]:
        return {
            "high": self.thresholds.high,
            "low": self.thresholds.low,
            "high_reached": self.high_reached,
            "high_precision": self.high_precision,
            "high_recall": self.high_recall,
            "low_recall": self.low_recall,
            "precision_target": HIGH_PRECISION,
            "recall_target": LOW_RECALL,
        }


def choose_thresholds(
    y: Any,
    scores: Any,
    *,
    precision_target: float = HIGH_PRECISION,
    recall_target: float = LOW_RECALL,
) -> ThresholdChoice:
    """Pick the band cut-offs on calibrated validation scores (see the module docstring).

    `high`: among the cuts placed at a counterfeit's score, the lowest whose precision is >=
    `precision_target` (the cut of largest recall at that precision; a cut below the lowest
    such counterfeit would only add genuine photos). When no cut gets there, `high` = 1.0: the
    band then holds only photos the model is certain about, and the model card says so.
    `low`: at the k-th highest counterfeit score, k = ceil(recall_target * N+), so at least
    that share of the counterfeits score >= it. If that is above `high`, `low` = `high` and the
    medium band is empty.
    Each cut is then moved down to halfway to the next lower validation score: the same photos
    fall on each side, but a photo scored exactly at the cut no longer flips band when the
    ONNX file computes its score in float32 instead of float64.
    """
    y = np.asarray(y, dtype=np.int64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    n_pos = int(y.sum())
    if n_pos == 0:
        raise ValueError("cannot choose thresholds: the validation split has no counterfeit")

    cuts, precision, recall = pr_points(y, s)
    at_positive = np.array([bool(np.any((s == c) & (y == 1))) for c in cuts])
    ok = at_positive & (precision >= precision_target)
    if ok.any():
        i = int(np.flatnonzero(ok)[np.argmax(recall[ok])])  # largest recall; first = highest cut
        high, high_reached = _below(float(cuts[i]), s), True
        high_precision, high_recall = float(precision[i]), float(recall[i])
    else:
        high, high_reached = 1.0, False
        flagged = s >= 1.0
        high_precision = float(y[flagged].mean()) if flagged.any() else None
        high_recall = float(y[flagged].sum() / n_pos)

    k = max(1, math.ceil(recall_target * n_pos - 1e-9))
    low = min(_below(float(np.sort(s[y == 1])[::-1][k - 1]), s), high)
    low_recall = float(np.sum(s[y == 1] >= low) / n_pos)
    return ThresholdChoice(
        thresholds=Thresholds(high=high, low=low),
        high_reached=high_reached,
        high_precision=high_precision,
        high_recall=high_recall,
        low_recall=low_recall,
    )
