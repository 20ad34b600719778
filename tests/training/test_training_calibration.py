"""Temperature scaling and the priority thresholds on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from counterscan.training import calibration
from counterscan.training.metrics import accuracy, expected_calibration_error, log_loss, sigmoid


def _sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """True log-odds and labels drawn from them."""
    rng = np.random.default_rng(seed)
    true_logit = rng.normal(0, 2, n)
    return true_logit, (rng.uniform(size=n) < sigmoid(true_logit)).astype(int)


def test_calibration_repairs_an_overconfident_model() -> None:
    true_logit, y = _sample(4000, 0)
    logits = 3.0 * true_logit  # three times too confident
    fitted = calibration.fit_calibration(logits, y)
    assert fitted.temperature == pytest.approx(3.0, rel=0.1)
    assert abs(fitted.shift) < 0.5
    before, after = sigmoid(logits), fitted.apply(logits)
    assert log_loss(y, after) < log_loss(y, before)
    assert expected_calibration_error(y, after) < expected_calibration_error(y, before) / 2


def test_calibration_finds_an_offset_and_an_underconfident_scale() -> None:
    true_logit, y = _sample(4000, 1)
    logits = true_logit / 2 - 1.5  # too timid and shifted towards "genuine"
    fitted = calibration.fit_calibration(logits, y)
    assert fitted.temperature == pytest.approx(0.5, rel=0.1)
    assert fitted.shift == pytest.approx(1.5, abs=0.2)
    assert fitted.apply(logits) == pytest.approx(sigmoid(true_logit), abs=0.05)
    # the shift moves the 0.5 point, so accuracy improves (a temperature alone cannot)
    assert accuracy(y, fitted.apply(logits)) > accuracy(y, sigmoid(logits)) + 0.05


def test_calibration_stays_finite_on_a_separable_set_and_degenerate_inputs() -> None:
    logits = np.r_[np.linspace(-3, -2, 50), np.linspace(2, 3, 50)]
    y = np.r_[np.zeros(50), np.ones(50)]
    fitted = calibration.fit_calibration(logits, y)
    # plain 0/1 targets would drive T to 0; Platt's 51/52 give sigmoid(2.5/T) ~ .98
    assert 0.4 < fitted.temperature < 0.8 and abs(fitted.shift) < 1e-6
    assert calibration.fit_calibration([1.0, 2.0], [1, 1]) == calibration.Calibration()
    assert calibration.fit_calibration([1.0], [0]) == calibration.Calibration()
    # a separable set whose gap is not at 0: the shift puts the 0.5 point into the gap
    shifted = calibration.fit_calibration(logits - 2.4, y)
    assert accuracy(y, shifted.apply(logits - 2.4)) == 1.0


# Scores in decreasing order with their labels; 6 counterfeits.
SCORES = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1]
LABELS = [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]


def test_thresholds_hand_case() -> None:
    # precision of "score >= cut": .95->1, .9->1, .85->2/3, .8->3/4, .7->4/5, .6->2/3, .5->5/7 ...
    choice = calibration.choose_thresholds(LABELS, SCORES)
    # cut at 0.9, moved halfway down to the next score (0.85): same photos, no float flips
    assert choice.thresholds.high == pytest.approx(0.875) and choice.high_reached
    assert choice.high_precision == 1.0 and choice.high_recall == pytest.approx(2 / 6)
    # 95% of 6 counterfeits -> all 6 must stay at or above low: the lowest one, 0.2 (-> 0.15)
    assert choice.thresholds.low == pytest.approx(0.15) and choice.low_recall == 1.0
    relaxed = calibration.choose_thresholds(
        LABELS, SCORES, precision_target=0.75, recall_target=0.8
    )
    # cut at 0.7 (precision 4/5; 0.5 would be 5/7 < 0.75), halfway to 0.6
    assert relaxed.thresholds.high == pytest.approx(0.65)
    # ceil(0.8 * 6) = 5th highest counterfeit, 0.5, halfway to 0.3
    assert relaxed.thresholds.low == pytest.approx(0.4)
    assert relaxed.thresholds.priority(0.7) == "high"
    assert relaxed.thresholds.priority(0.6) == "medium"
    assert relaxed.thresholds.priority(0.3) == "low"


def test_high_never_reached_and_low_clamped() -> None:
    choice = calibration.choose_thresholds([0, 1], [0.9, 0.8])
    assert not choice.high_reached and choice.thresholds.high == 1.0
    assert choice.thresholds.low == pytest.approx(0.8 - 1e-6)  # no lower score: just below
    # all 20 counterfeits above every genuine photo: high = the lowest counterfeit (recall 1),
    # low would be the 19th counterfeit, above high, so it is clamped: no medium band
    scores = [0.5 + i / 50 for i in range(20)] + [0.1, 0.2]
    labels = [1] * 20 + [0, 0]
    choice = calibration.choose_thresholds(labels, scores)
    assert choice.thresholds.high == pytest.approx(0.35)  # 0.5, halfway to 0.2
    assert choice.thresholds.low == choice.thresholds.high
    with pytest.raises(ValueError, match="no counterfeit"):
        calibration.choose_thresholds([0, 0], [0.1, 0.2])
