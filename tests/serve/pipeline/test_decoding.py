"""The decoding stage makes everything from one decode: the model input (as decode_for_model +
resize_to_square make it), and from a small copy of the photo the perceptual hash, the
fingerprint and the thumbnail."""

from __future__ import annotations

import asyncio
import io

import numpy as np
from PIL import Image

from counterscan.hashing import phash, phash_hex
from counterscan.images import DECODE_MIN_SIDE, decode_for_model, resize_to_square
from counterscan.serve.pipeline.decoding import decode
from counterscan.serve.pipeline.job import Job, Submission
from counterscan.serve.pipeline.prepare import DecodePool, Limits, shrink
from counterscan.serve.similar.fingerprint import fingerprint
from counterscan.serve.storage.evidence import THUMB_SIDE

LIMITS = Limits(20 * 2**20, 50_000_000, 32)


def _jpeg(width: int, height: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _decode(datas: list[bytes], *, thumbnails: bool) -> list[Job]:
    async def run() -> list[Job]:
        pool = DecodePool(2)
        try:
            jobs = [Job(Submission(d), sha256=f"{i:064x}") for i, d in enumerate(datas)]
            await decode(jobs, pool, 64, LIMITS, keep_photo=False, thumbnails=thumbnails)
            return jobs
        finally:
            pool.close()

    return asyncio.run(run())


def test_a_drafted_decode_is_always_large_enough_for_the_thumbnail() -> None:
    assert THUMB_SIDE <= DECODE_MIN_SIDE


def test_hashes_fingerprint_and_thumbnail_come_from_one_small_copy() -> None:
    datas = [_jpeg(2000, 1500, 1), _jpeg(640, 480, 2), _jpeg(100, 80, 3), b"not an image"]
    big, listing, tiny, bad = _decode(datas, thumbnails=True)
    for job, data in ((big, datas[0]), (listing, datas[1]), (tiny, datas[2])):
        assert job.prepared is not None and job.refused is None
        rgb = decode_for_model(data, 64).rgb
        small = np.asarray(job.prepared.small)  # the hashes below from the array: as before
        assert job.prepared.small.mode == "RGB" and job.prepared.small_grey.mode == "L"
        assert np.array_equal(job.prepared.model_input, resize_to_square(rgb, 64))
        assert np.array_equal(small, shrink(rgb, THUMB_SIDE))
        assert job.prepared.phash == phash_hex(phash(small))
        assert job.fingerprint == fingerprint(small).to_bytes()
        assert job.prepared.photo is None  # no heat map asked for: no full photo held
        assert job.thumbnail is not None
        with Image.open(io.BytesIO(job.thumbnail)) as thumb:
            expected = min(THUMB_SIDE, max(rgb.shape[:2]))
            assert max(thumb.size) == expected
    # Small enough to hold for the whole request, big enough for a thumbnail.
    assert THUMB_SIDE <= max(big.prepared.small.size) < 2 * THUMB_SIDE
    assert listing.prepared.small.size == (320, 240)
    assert tiny.prepared.small.size == (100, 80)  # the whole picture
    assert bad.prepared is None and bad.refused is not None and bad.refused.status == 415


def test_no_thumbnail_is_made_when_none_is_kept() -> None:
    (job,) = _decode([_jpeg(640, 480, 4)], thumbnails=False)
    assert job.prepared is not None and job.fingerprint is not None and job.thumbnail is None
