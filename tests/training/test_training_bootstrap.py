"""Group bootstrap intervals: contain the estimate, narrow with more groups, move copies together,
keep both classes in every resample, repeat for a seed, refuse a negative count."""

from __future__ import annotations

import numpy as np
import pytest

from counterscan.errors import CounterscanError
from counterscan.training import metrics
from counterscan.training.bootstrap import METRICS, group_bootstrap, interval_text


def _photos(n_groups: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One photo per group, ~40% counterfeit, scores that separate the classes imperfectly."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n_groups) < 0.4).astype(np.int64)
    p = 1 / (1 + np.exp(-(1.2 * rng.normal(size=n_groups) + 1.2 * (2 * y - 1))))
    return y, p, [f"g{i:04d}" for i in range(n_groups)]


def _width(ci: dict, name: str) -> float:
    return ci[name][1] - ci[name][0]


def test_interval_contains_the_estimate_and_narrows_with_more_groups() -> None:
    y, p, groups = _photos(400)
    ci = group_bootstrap(y, p, groups, resamples=500)
    assert ci is not None and ci["groups"] == 400 and ci["resamples"] == 500
    assert ci["unit"] == "group"
    for name, fn in METRICS.items():
        lo, hi = ci[name]
        assert lo < fn(y, p) < hi, name
    small = group_bootstrap(*_photos(40), resamples=500)
    assert small is not None
    for name in METRICS:  # ten times fewer groups: about sqrt(10) = 3.2 times wider
        assert _width(small, name) > 2 * _width(ci, name), name
    # a 95% interval of a proportion is about 2 x 1.96 standard errors wide
    a = metrics.accuracy(y, p)
    assert _width(ci, "accuracy") == pytest.approx(2 * 1.96 * np.sqrt(a * (1 - a) / 400), rel=0.2)


def test_copies_of_a_photo_move_together() -> None:
    """Three identical photos per group carry the evidence of one: the interval must be as wide
    as with one photo per group (resampling photos would make it ~sqrt(3) narrower)."""
    y, p, groups = _photos(120)
    single = group_bootstrap(y, p, groups, resamples=400, seed=3)
    tripled = group_bootstrap(
        np.repeat(y, 3), np.repeat(p, 3), list(np.repeat(groups, 3)), resamples=400, seed=3
    )
    assert single is not None and tripled is not None
    assert tripled["groups"] == 120
    for name in METRICS:
        assert tripled[name] == pytest.approx(single[name]), name
    # the same photos, each its own group: clearly narrower (the test above can fail)
    photos = group_bootstrap(
        np.repeat(y, 3), np.repeat(p, 3), [str(i) for i in range(360)], resamples=400, seed=3
    )
    assert photos is not None
    assert _width(photos, "roc_auc") < 0.8 * _width(single, "roc_auc")


def test_every_resample_keeps_both_classes() -> None:
    """One counterfeit group among 60: unstratified, a third of the resamples would have no
    counterfeit and no ROC-AUC; stratified, every resample has it."""
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(3, dtype=np.int64), np.zeros(60, dtype=np.int64)]
    p = np.r_[rng.uniform(0.4, 0.9, 3), rng.uniform(0.0, 0.6, 60)]
    groups = ["fake"] * 3 + [f"g{i}" for i in range(60)]
    ci = group_bootstrap(y, p, groups, resamples=300)
    assert ci is not None and ci["groups"] == 61
    assert all(np.isfinite(ci[name]).all() for name in METRICS)
    assert 0.0 <= ci["roc_auc"][0] <= metrics.roc_auc(y, p) <= ci["roc_auc"][1] <= 1.0
    # groups holding both classes only: still both classes in every resample
    mixed = group_bootstrap([0, 1] * 20, rng.random(40), [f"m{i // 2}" for i in range(40)])
    assert mixed is not None and mixed["groups"] == 20


def test_deterministic_for_a_seed() -> None:
    y, p, groups = _photos(80)
    first = group_bootstrap(y, p, groups, resamples=200, seed=7)
    again = group_bootstrap(y, p, groups, resamples=200, seed=7)
    other = group_bootstrap(y, p, groups, resamples=200, seed=8)
    assert first is not None and again is not None and other is not None
    assert first == again and first["seed"] == 7
    assert [first[m] for m in METRICS] != [other[m] for m in METRICS]


def test_nothing_to_resample_and_bad_counts() -> None:
    y, p, groups = _photos(30)
    assert group_bootstrap(y, p, groups, resamples=0) is None
    assert group_bootstrap(np.ones(5), np.linspace(0, 1, 5), list("abcde")) is None  # one class
    assert group_bootstrap([], [], []) is None
    with pytest.raises(CounterscanError, match="--bootstrap must be 0"):
        group_bootstrap(y, p, groups, resamples=-1)
    with pytest.raises(ValueError, match="differ"):
        group_bootstrap(y, p, groups[:-1])


def test_text_flags_an_interval_from_few_groups() -> None:
    y, p, groups = _photos(400)
    many = group_bootstrap(y, p, groups, resamples=100)
    assert many is not None and min(many["genuine_groups"], many["counterfeit_groups"]) >= 10
    lo, hi = many["roc_auc"]
    text = interval_text(many, "roc_auc", resamples=True)
    assert text == f"95% CI {lo:.3f}-{hi:.3f}, 100 group resamples of 400 groups"
    assert interval_text(many, "accuracy") == "95% CI {:.3f}-{:.3f}".format(*many["accuracy"])
    few = group_bootstrap([0] * 20 + [1] * 3, np.linspace(0, 1, 23), [str(i) for i in range(23)])
    assert few is not None and (few["genuine_groups"], few["counterfeit_groups"]) == (20, 3)
    assert "too few for a reliable interval" in interval_text(few, "roc_auc", resamples=True)
    assert interval_text(None, "roc_auc") == ""
