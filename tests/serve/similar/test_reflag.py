"""The background re-flag scan after a counterfeit verdict: a queued item whose stored
fingerprint cannot be read is counted and logged, and the scan still raises the items that
match (before, one such row aborted the whole scan and raised nothing); the scan reads the
queue in bounded keyset batches, and the job runs one pass at a time for every reference
submitted meanwhile (similar/reflag.py)."""

from __future__ import annotations

import io
import logging
import threading
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
from counterscan.serve.similar.reflag import ReflagJob
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


def test_the_scan_reads_the_queue_in_bounded_batches(
    store: Store, save_item: Callable[..., Any]
) -> None:
    original = _detailed_jpeg(4)
    reference = Photo(
        "e" * 32, sha256_bytes(original), fingerprint(decode_image(original).rgb), None
    )
    for seed in range(5):  # ranked before the copy
        save_item(
            10 + seed,
            score=0.9,
            priority="high",
            fingerprint=_fingerprint(_detailed_jpeg(20 + seed)),
        )
    copy_bytes = make_copy(original, "crop_10_centre", np.random.default_rng(1))
    copy = save_item(
        30, image_bytes=copy_bytes, fingerprint=_fingerprint(copy_bytes), score=0.1, priority="low"
    )
    batches: list[float] = []

    raised = SimilarCases().reflag(store, reference, batch=2, rest=batches.append)

    assert raised == [copy.id]
    assert len(batches) == 3  # 6 queued items, 2 per read: the last batch found the copy
    after = store.get_item(copy.id)
    assert after is not None and after.priority == "high"


def test_the_job_runs_one_pass_at_a_time_with_every_reference_since(
    store: Store, save_item: Callable[..., Any]
) -> None:
    photos = [_detailed_jpeg(40 + k) for k in range(3)]
    refs = [
        Photo(f"{k}" * 32, sha256_bytes(p), fingerprint(decode_image(p).rgb), None)
        for k, p in enumerate(photos)
    ]
    copies = []
    for k, p in enumerate(photos):
        data = make_copy(p, "jpeg_q40", np.random.default_rng(k))
        copies.append(save_item(50 + k, image_bytes=data, fingerprint=_fingerprint(data)).id)
    cases = SimilarCases()
    first_pass_started, go_on = threading.Event(), threading.Event()
    passes: list[list[str]] = []

    def scan(store: Store, *references: Photo, **options: Any) -> list[str]:
        passes.append([r.item_id for r in references])
        first_pass_started.set()
        go_on.wait(30)
        return cases.reflag(store, *references, **options)

    job = ReflagJob(scan, batch=2, pause_share=0.5)
    job.submit(store, refs[0])
    assert first_pass_started.wait(30)
    job.submit(store, refs[1])  # both wait for the pass that is running
    job.submit(store, refs[2])
    go_on.set()
    assert job.wait_idle(60)

    assert passes == [[refs[0].item_id], [refs[1].item_id, refs[2].item_id]]
    assert job.passes == 2
    for k, item_id in enumerate(copies):
        after = store.get_item(item_id)
        assert after is not None and after.priority_reason is not None
        assert refs[k].item_id in after.priority_reason
