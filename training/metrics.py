"""Classification metrics for one positive class ("counterfeit"), numpy only (no torch, no sklearn).

Used by training (validation each epoch), by `counterscan evaluate` (ONNX, torch-free) and by the
model card, so every number in this project is computed by the same code.

Conventions: `y` holds 0/1 targets (1 = counterfeit), `p` the predicted probability of class 1.
A metric that is undefined for the data (AUC with one class only, precision of an empty band)
is `None`, which JSON can carry, never NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from counterscan.contract import Thresholds

ECE_BINS = 15  # equal-width bins of the predicted probability, the usual choice in the literature


def _as_arrays(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=np.int64).ravel()
    p_arr = np.asarray(p, dtype=np.float64).ravel()
    if y_arr.shape != p_arr.shape:
        raise ValueError(f"targets {y_arr.shape} and scores {p_arr.shape} differ in length")
    return y_arr, p_arr


def roc_auc(y: Any, p: Any) -> float | None:
    """Area under the ROC curve = P(score of a random positive > score of a random negative).

    Mann-Whitney U with average ranks, so tied scores count one half. None with one class only.
    """
    y, p = _as_arrays(y, p)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(p)
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks; tied values share the mean of their ranks.

    No Python loop over the runs of ties: the group bootstrap calls this a thousand times on
    resamples full of duplicated photos (bootstrap.py).
    """
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    # boundaries of runs of equal values in the sorted order
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.repeat((starts + 1 + ends) / 2.0, ends - starts)  # mean of ranks s+1 .. e
    return ranks


def pr_points(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall of "flag every photo with score >= t" for each distinct score t.

    Returns (thresholds, precision, recall), thresholds in decreasing order. Tied scores are one
    threshold: a cut can never separate photos with the same score.
    """
    y, p = _as_arrays(y, p)
    order = np.argsort(-p, kind="mergesort")
    p_sorted, y_sorted = p[order], y[order]
    last_of_run = np.r_[p_sorted[1:] != p_sorted[:-1], True]  # index where each tie run ends
    tp = np.cumsum(y_sorted)[last_of_run]
    flagged = (np.arange(len(y)) + 1)[last_of_run]
    n_pos = max(int(y.sum()), 1)
    return p_sorted[last_of_run], tp / flagged, tp / n_pos


def average_precision(y: Any, p: Any) -> float | None:
    """Step-wise area under the PR curve: sum over thresholds of (R_k - R_k-1) * P_k.

    The same definition as scikit-learn's `average_precision_score` (no interpolation).
    None when there is no positive.
    """
    y, p = _as_arrays(y, p)
    if y.sum() == 0:
        return None
    _, precision, recall = pr_points(y, p)
    gains = np.diff(np.r_[0.0, recall])
    return float(np.sum(gains * precision))


def accuracy(y: Any, p: Any, threshold: float = 0.5) -> float | None:
    y, p = _as_arrays(y, p)
    if len(y) == 0:
        return None
    return float(np.mean((p >= threshold).astype(np.int64) == y))


def confusion(y: Any, p: Any, threshold: float = 0.5) -> dict[str, Any]:
    """Counts at "counterfeit if score >= threshold". `matrix` rows = true, columns = predicted,
    both in the order (genuine, counterfeit)."""
    y, p = _as_arrays(y, p)
    pred = p >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    return {
        "threshold": threshold,
        "labels": ["genuine", "counterfeit"],
        "matrix": [[tn, fp], [fn, tp]],
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
    }


def expected_calibration_error(y: Any, p: Any, n_bins: int = ECE_BINS) -> float | None:
    """ECE of the counterfeit probability: sum over equal-width bins b of n_b/N * |mean(y_b) - mean(p_b)|.

    Bins are [0, 1/n), [1/n, 2/n), ..., the last one closed at 1. 0 is perfectly calibrated.
    """
    y, p = _as_arrays(y, p)
    if len(y) == 0:
        return None
    bins = reliability_bins(y, p, n_bins)
    return float(sum(b["count"] * abs(b["observed"] - b["predicted"]) for b in bins) / len(y))


def reliability_bins(y: Any, p: Any, n_bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Non-empty bins of the reliability diagram: edges, count, mean predicted, observed rate."""
    y, p = _as_arrays(y, p)
    index = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    out = []
    for b in range(n_bins):
        mask = index == b
        if mask.any():
            out.append(
                {
                    "lower": b / n_bins,
                    "upper": (b + 1) / n_bins,
                    "count": int(mask.sum()),
                    "predicted": float(p[mask].mean()),
                    "observed": float(y[mask].mean()),
                }
            )
    return out


def log_loss(y: Any, p: Any, eps: float = 1e-7) -> float | None:
    """Mean negative log-likelihood (binary cross-entropy) of the probabilities."""
    y, p = _as_arrays(y, p)
    if len(y) == 0:
        return None
    q = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def precision_at_k(y: Any, p: Any, k: int) -> float | None:
    """Share of counterfeits among the k highest scores (all photos when there are fewer than k).

    Ties at the cut are broken by input order (stable sort), as an inspector's queue would be.
    """
    y, p = _as_arrays(y, p)
    k = min(k, len(y))
    if k == 0:
        return None
    top = np.argsort(-p, kind="mergesort")[:k]
    return float(y[top].mean())


def recall_at_precision(y: Any, p: Any, min_precision: float = 0.9) -> float:
    """The largest recall of any cut "score >= t" whose precision is at least `min_precision`.

    0.0 when no cut reaches that precision (or there is no positive).
    """
    y, p = _as_arrays(y, p)
    if y.sum() == 0:
        return 0.0
    _, precision, recall = pr_points(y, p)
    ok = precision >= min_precision
    return float(recall[ok].max()) if ok.any() else 0.0


def band_stats(y: Any, p: Any, thresholds: Thresholds) -> dict[str, dict[str, Any]]:
    """Per priority band: photos, counterfeits among them and precision (None for an empty band)."""
    y, p = _as_arrays(y, p)
    bands = np.array([thresholds.priority(float(s)) for s in p], dtype=object)
    out: dict[str, dict[str, Any]] = {}
    for name in ("high", "medium", "low"):
        mask = bands == name
        n = int(mask.sum())
        n_pos = int(y[mask].sum())
        out[name] = {"n": n, "counterfeit": n_pos, "precision": n_pos / n if n else None}
    return out


def classification_report(
    y: Any, p: Any, thresholds: Thresholds | None = None, *, ks: tuple[int, ...] = (10, 50)
) -> dict[str, Any]:
    """Every metric of `counterscan evaluate` for one set of scores, as a JSON-friendly dict."""
    y, p = _as_arrays(y, p)
    report: dict[str, Any] = {
        "n": len(y),
        "n_counterfeit": int(y.sum()),
        "n_genuine": int(len(y) - y.sum()),
        "roc_auc": roc_auc(y, p),
        "average_precision": average_precision(y, p),
        "accuracy": accuracy(y, p),
        "log_loss": log_loss(y, p),
        "ece": expected_calibration_error(y, p),
    }
    for k in ks:
        report[f"precision_at_{k}"] = precision_at_k(y, p, k)
    report["recall_at_precision_0.9"] = recall_at_precision(y, p, 0.9)
    if thresholds is not None:
        report["bands"] = band_stats(y, p, thresholds)
    report["confusion"] = confusion(y, p)
    return report


def sigmoid(z: Any) -> np.ndarray:
    """Numerically stable logistic function."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out
