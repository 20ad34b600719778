"""The background re-flag scan after a counterfeit verdict: a queued item whose stored
fingerprint cannot be read is counted and logged, and the scan still raises the items that
match (before, one such row aborted the whole scan and raised nothing)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image

from counterscan.hashing import sha256_bytes
from counterscan.images import decode_image
from counterscan.serve.similar.evaluate import make_copy
from counterscan.serve.similar.fingerprint import fingerprint
from counterscan.serve.similar.references import Photo
from counterscan.serve.similar.service import SimilarCases
from counterscan.serve.storage import Store


def _detailed_jpeg(seed: int) -> bytes:
    """240x200, smooth colours plus small sharp patches: something alignment can lock on to."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)
    pixels = np.asarray(Image.fromarray(coarse).resize((240, 200), Image.Resampling.BICUBIC))
    pixels = pixels.copy()
    for _ in range(25):
        x, y, w, h = (int(v) for v in rng.integers((0, 0, 4, 4), (220, 180, 20, 20)))
        pixels[y : y + h, x : x + w] = rng.integers(0, 256, 3)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def _fingerprint(data: bytes) -> bytes:
    return fingerprint(decode_image(data).rgb).to_bytes()


def test_an_unreadable_fingerprint_is_counted_and_the_scan_goes_on(
    store: Store, save_item: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    original = _detailed_jpeg(1)
    reference = Photo(
        "f" * 32, sha256_bytes(original), fingerprint(decode_image(original).rgb), None
    )
    # Ranked first in the queue, so the scan meets it before the copy.
    bad = save_item(2, fingerprint=b"not a fingerprint", score=0.9, priority="high")
    copy_bytes = make_copy(original, "jpeg_q40", np.random.default_rng(0))
    copy = save_item(
        3,
        image_bytes=copy_bytes,
        fingerprint=_fingerprint(copy_bytes),
        score=0.2,
        priority="low",
    )
    cases = SimilarCases()

    with caplog.at_level(logging.WARNING, logger="counterscan.serve.similar.service"):
        raised = cases.reflag(store, reference)

    assert raised == [copy.id]
    assert cases.unreadable_fingerprints == 1
    assert "1 queued items have an unreadable fingerprint" in caplog.text and bad.id in caplog.text
    after = store.get_item(copy.id)
    assert after is not None and after.priority == "high"
    assert after.priority_reason == f"matches confirmed counterfeit {'f' * 32} (near-duplicate)"
    untouched = store.get_item(bad.id)
    assert untouched is not None and untouched.priority_reason is None
