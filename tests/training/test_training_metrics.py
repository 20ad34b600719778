"""Metrics against hand-computed cases (the AUC/AP case is scikit-learn's documented example)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from counterscan.contract import Thresholds
from counterscan.training import metrics

Y = [0, 0, 1, 1]
P = [0.1, 0.4, 0.35, 0.8]


def test_roc_auc_hand_case_and_ties() -> None:
    # positive 0.35 beats 0.1, loses to 0.4; positive 0.8 beats both: 3 of 4 pairs
    assert metrics.roc_auc(Y, P) == pytest.approx(0.75)
    assert metrics.roc_auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)  # a tie counts one half
    assert metrics.roc_auc([0, 1, 1], [0.2, 0.2, 0.9]) == pytest.approx(0.75)
    assert metrics.roc_auc([1, 1], [0.2, 0.9]) is None  # one class only


def test_average_precision_hand_case() -> None:
    # ranked: 0.8 (+) P=1 R=.5; 0.4 (-); 0.35 (+) P=2/3 R=1; 0.1 (-)  ->  .5*1 + .5*2/3
    assert metrics.average_precision(Y, P) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert metrics.average_precision([1, 0, 1], [0.9, 0.5, 0.5]) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert metrics.average_precision([0, 0], [0.1, 0.2]) is None


def test_accuracy_confusion_and_log_loss() -> None:
    y, p = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    assert metrics.accuracy(y, p) == pytest.approx(0.75)
    c = metrics.confusion(y, p)
    assert (c["tp"], c["fp"], c["fn"], c["tn"]) == (2, 1, 0, 1)
    assert c["matrix"] == [[1, 1], [0, 2]]  # rows true genuine/counterfeit
    expected = -(math.log(0.9) + math.log(0.2) + math.log(0.7) + math.log(0.9)) / 4
    assert metrics.log_loss(y, p) == pytest.approx(expected)


def test_expected_calibration_error_hand_case() -> None:
    # bin around 0.1: observed 0.5 vs 0.1 (2 photos); bin around 0.9: observed 1 vs 0.9 (2 photos)
    y, p = [0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9]
    assert metrics.expected_calibration_error(y, p) == pytest.approx((2 * 0.4 + 2 * 0.1) / 4)
    assert metrics.expected_calibration_error([0, 1], [0.0, 1.0]) == pytest.approx(0.0)
    bins = metrics.reliability_bins(y, p)
    assert [b["count"] for b in bins] == [2, 2]


def test_precision_at_k_and_recall_at_precision() -> None:
    y, p = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    assert metrics.precision_at_k(y, p, 1) == 1.0
    assert metrics.precision_at_k(y, p, 2) == pytest.approx(0.5)
    assert metrics.precision_at_k(y, p, 3) == pytest.approx(2 / 3)
    assert metrics.precision_at_k(y, p, 10) == pytest.approx(0.5)  # fewer photos than k: all
    # cuts: 0.9 P=1 R=.5 | 0.8 P=.5 | 0.7 P=2/3 R=1 | 0.1 P=.5 R=1
    assert metrics.recall_at_precision(y, p, 0.9) == pytest.approx(0.5)
    assert metrics.recall_at_precision(y, p, 0.6) == pytest.approx(1.0)
    assert metrics.recall_at_precision([0, 1], [0.9, 0.1], 0.9) == 0.0


def test_band_stats() -> None:
    y, p = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    bands = metrics.band_stats(y, p, Thresholds(high=0.75, low=0.2))
    assert bands["high"] == {"n": 2, "counterfeit": 1, "precision": 0.5}
    assert bands["medium"] == {"n": 1, "counterfeit": 1, "precision": 1.0}
    assert bands["low"] == {"n": 1, "counterfeit": 0, "precision": 0.0}
    empty = metrics.band_stats([1], [0.5], Thresholds(high=0.9, low=0.1))
    assert empty["high"]["precision"] is None


def test_report_has_every_field_and_is_json_friendly() -> None:
    import json

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    p = np.clip(y * 0.6 + rng.uniform(0, 0.4, 100), 0, 1)
    report = metrics.classification_report(y, p, Thresholds(high=0.8, low=0.3))
    for key in (
        "n",
        "roc_auc",
        "average_precision",
        "accuracy",
        "ece",
        "precision_at_10",
        "precision_at_50",
        "recall_at_precision_0.9",
        "bands",
        "confusion",
    ):
        assert key in report
    assert report["n"] == 100
    assert report["roc_auc"] == pytest.approx(1.0)  # every positive is above 0.6 > every negative
    json.dumps(report)  # no numpy types, no NaN


def test_sigmoid_is_stable() -> None:
    out = metrics.sigmoid([-1000.0, 0.0, 1000.0])
    assert out.tolist() == [0.0, 0.5, 1.0]


def test_roc_auc_with_many_ties_matches_pair_counting() -> None:
    """The vectorised tie ranks (bootstrap resamples are full of duplicates) against counting
    every positive-negative pair, ties one half."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(2, 80))
        y = rng.integers(0, 2, n)
        p = rng.integers(0, 6, n) / 5  # few distinct scores: long runs of ties
        if y.min() == y.max():
            continue
        diff = p[y == 1][:, None] - p[y == 0][None, :]
        expected = ((diff > 0) + 0.5 * (diff == 0)).mean()
        assert metrics.roc_auc(y, p) == pytest.approx(expected)
