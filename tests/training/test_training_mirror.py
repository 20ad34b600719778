"""mirror="auto": flips on exactly when the labelled photos already hold mirrored copies."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from counterscan.errors import CounterscanError
from counterscan.training.config import TrainConfig
from counterscan.training.mirror import MIRROR_SHARE, decide, mirrored_share


def _photos(n: int, seed: int = 0) -> np.ndarray:
    """(n, 96, 96, 3) uint8 smooth random scenes: coarse, asymmetric layouts like photos."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        coarse = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        out.append(np.asarray(Image.fromarray(coarse).resize((96, 96), Image.Resampling.BICUBIC)))
    return np.stack(out)


def _turned(rgb: np.ndarray, angle: float) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).rotate(angle, Image.Resampling.BILINEAR))


def test_photos_without_mirrored_copies_train_without_flips() -> None:
    photos = _photos(40)
    labels = np.arange(40) % 2
    assert mirrored_share(photos, labels) == 0.0
    assert decide("auto", photos, labels).use is False


def test_mirrored_copies_under_one_label_turn_flips_on_even_when_turned() -> None:
    base = _photos(40)
    # 4 of 40 photos get a mirrored copy, two of them also turned by 15-30 degrees.
    copies = [base[0][:, ::-1], base[1][:, ::-1], _turned(base[2][:, ::-1], 15),
              _turned(base[3][:, ::-1], -30)]  # fmt: skip
    photos = np.concatenate([base, np.stack(copies)])
    labels = np.concatenate([np.arange(40) % 2, np.array([0, 1, 0, 1])])
    share = mirrored_share(photos, labels)
    assert share == pytest.approx(8 / 44)  # each original and its copy have a mirrored copy
    decision = decide("auto", photos, labels)
    assert decision.use is True and decision.mirrored_share >= MIRROR_SHARE


def test_duplicates_and_symmetric_photos_are_not_mirror_evidence() -> None:
    base = _photos(20)
    symmetric = base.copy()
    symmetric[:, :, 48:] = symmetric[:, :, :48][:, :, ::-1]  # left half mirrored onto the right
    photos = np.concatenate([base, base[:5], symmetric, symmetric[:5]])  # exact duplicates
    labels = np.zeros(len(photos), dtype=int)
    assert mirrored_share(photos, labels) == 0.0


def test_a_mirrored_copy_under_the_other_label_does_not_count() -> None:
    base = _photos(20)
    photos = np.concatenate([base, base[:10, :, ::-1]])
    labels = np.concatenate([np.zeros(20, dtype=int), np.ones(10, dtype=int)])
    assert mirrored_share(photos, labels) == 0.0


def test_on_and_off_override_the_measurement() -> None:
    photos = _photos(10)
    labels = np.arange(10) % 2
    assert decide("on", photos, labels).use is True
    assert decide("off", photos, labels).to_dict() == {
        "use": False, "setting": "off", "mirrored_share": None,
    }  # fmt: skip


def test_an_unknown_mirror_setting_is_refused() -> None:
    with pytest.raises(CounterscanError, match="mirror must be"):
        TrainConfig(mirror="yes")
