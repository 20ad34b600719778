"""Turn validation logits into a calibrated probability and the priority thresholds. Numpy only.

Calibration: the served probability is sigmoid((logit + shift) / T). T (the contract's
temperature) and the shift are fitted together on the validation split by minimising the
negative log-likelihood: Platt scaling, written as temperature scaling of a shifted logit. The
shift is folded into the head's bias before export, so the ONNX graph still computes
sigmoid(logit / T) and the contract still holds one temperature. Why the shift: the network's
logits on full, unaugmented photos are offset from those it saw in training (random crops), and a
temperature alone cannot move the 0.5 point. Measured on banknotes-bd (192 px): temperature
alone left 3 of 96 validation counterfeits below 0.5 although every counterfeit outscored every
genuine note (AUC 1.0), and made the log loss worse (0.037 -> 0.055); with the shift none were.
Neither changes the ranking (AUC, AP, precision@k are untouched).

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

from counterscan.contract import Thresholds
from counterscan.training.metrics import pr_points, sigmoid

T_MIN, T_MAX = 0.05, 20.0  # allowed temperatures; outside them something is broken
HIGH_PRECISION = 0.9
LOW_RECALL = 0.95


def platt_targets(y: np.ndarray) -> np.ndarray:
    """Targets (N+ + 1)/(N+ + 2) and 1/(N- + 2) instead of 1 and 0 (Platt, 1999).

    With plain 0/1 targets a validation set that the model separates perfectly drives T to 0
    (infinitely confident probabilities). The smoothed targets are what a uniform prior on the
    rate gives; they keep T finite and barely matter on sets that are not separable.
    """
    n_pos = float(y.sum())
    n_neg = float(len(y) - n_pos)
    return np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))


def _loss_grad_hess(
    z: np.ndarray, t: np.ndarray, a: float, c: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean cross-entropy of sigmoid(a*z + c) against targets t, its gradient and Hessian in
    (a, c)."""
    u = a * z + c
    loss = float(np.mean(t * np.logaddexp(0, -u) + (1 - t) * np.logaddexp(0, u)))
    p = sigmoid(u)
    features = np.stack([z, np.ones_like(z)])  # (2, N)
    grad = features @ (p - t) / len(z)  # (2,)
    hess = (features * (p * (1 - p))) @ features.T / len(z)  # (2, 2)
    return loss, grad, hess


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0
    shift: float = 0.0  # added to the logit before dividing by the temperature

    def apply(self, logits: Any) -> np.ndarray:
        """The served probability: sigmoid((logit + shift) / T)."""
        return sigmoid((np.asarray(logits, dtype=np.float64) + self.shift) / self.temperature)


def fit_calibration(logits: Any, y: Any, *, iters: int = 100) -> Calibration:
    """Minimise the NLL of sigmoid(a * logit + c) over (a, c) by Newton's method, then
    T = 1/a, shift = c/a. The loss is convex in (a, c); with Platt's targets it has a finite
    minimum even on a perfectly separated set. a is kept in [1/T_MAX, 1/T_MIN] (c refitted).
    Returns the identity (T 1, shift 0) when there is nothing to fit (< 2 photos, one class).
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.int64).ravel()
    if len(z) < 2 or y.min() == y.max():
        return Calibration()
    t = platt_targets(y)
    params = np.array([1.0, 0.0])
    for _ in range(iters):
        loss, grad, hess = _loss_grad_hess(z, t, *params)
        step = np.linalg.solve(hess + 1e-9 * np.eye(2), grad)
        scale = 1.0
        while scale > 1e-6:  # backtracking: Newton may overshoot far from the minimum
            candidate = params - scale * step
            if _loss_grad_hess(z, t, *candidate)[0] <= loss:
                break
            scale /= 2
        params = params - scale * step
        if np.abs(scale * step).max() < 1e-10:
            break
    a = float(np.clip(params[0], 1 / T_MAX, 1 / T_MIN))
    c = float(params[1])
    if a != params[0]:  # clipped: best shift for that slope (1-D Newton)
        for _ in range(50):
            _, grad, hess = _loss_grad_hess(z, t, a, c)
            c -= grad[1] / max(hess[1, 1], 1e-12)
    return Calibration(temperature=1 / a, shift=c / a)


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
