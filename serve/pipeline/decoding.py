"""The CPU-heavy stages of scoring: decode each image once and make from it everything the rest
needs (model input, perceptual hash, fingerprint, thumbnail), score it, keep its evidence.

Decoding runs on the decoding threads in chunks of a few images: one hand-over to a thread and
one wake-up of the event loop per chunk instead of per image, and each chunk goes to the model
as soon as it is decoded, so the model starts on a batch request while the rest of it is still
being decoded. The originals of a request are written and fsynced together while the model
runs (`Store.keep_evidence_many`). Measured in bench/README.md (2026-11-30).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

import anyio.to_thread
import numpy as np

from counterscan.serve.inference.heatmap import DISPLAY_SIZE
from counterscan.serve.inference.served import ServedModel
from counterscan.serve.pipeline.job import Job
from counterscan.serve.pipeline.prepare import DecodePool, ImageRejected, Limits, try_prepare
from counterscan.serve.similar.fingerprint import fingerprint
from counterscan.serve.storage import Store
from counterscan.serve.storage.evidence import thumbnail_from_photo

# Images per hand-over to a decoding thread: small enough that the model starts early and the
# threads share a request evenly, large enough that hand-overs cost little (bench/README.md).
CHUNK = 4


async def decode(
    jobs: list[Job],
    decoders: DecodePool,
    input_size: int,
    limits: Limits,
    *,
    keep_photo: bool,
    thumbnails: bool = False,
) -> list[Job]:
    """Decode in parallel into the model input, hashes and fingerprint (and the photo, large
    enough for a heat map, with `keep_photo`; the thumbnail JPEG with `thumbnails`). Returns
    the jobs that decoded; the others hold their refusal."""
    work = _worker(decoders, input_size, limits, keep_photo, thumbnails)
    await asyncio.gather(*(work(chunk) for chunk in _chunks(jobs)))
    return [job for job in jobs if job.prepared is not None]


async def decode_score_keep(
    jobs: list[Job],
    decoders: DecodePool,
    model: ServedModel,
    store: Store,
    limits: Limits,
    *,
    keep_photo: bool,
) -> list[Job]:
    """`decode`, each chunk scored by the model as soon as it is decoded, and the evidence of
    images new to the store kept (written and fsynced together) while the model runs. Returns
    the jobs that decoded."""
    size = model.contract.input_size
    work = _worker(decoders, size, limits, keep_photo, store.eager_thumbnails)
    decoded = [asyncio.ensure_future(work(chunk)) for chunk in _chunks(jobs)]

    async def score(chunk: asyncio.Future[list[Job]]) -> None:
        ready = await chunk
        if ready:
            scored = await model.score([_input(job) for job in ready])
            for job, result in zip(ready, scored, strict=True):
                job.scored = result

    async def keep() -> None:
        await asyncio.gather(*decoded)
        new = [job for job in jobs if job.prepared is not None and job.cached is None]
        if new:
            evidence = [(job.sub.data, job.sha256, job.thumbnail) for job in new]
            await anyio.to_thread.run_sync(store.keep_evidence_many, evidence)

    try:
        await asyncio.gather(keep(), *(score(chunk) for chunk in decoded))
    finally:
        for job in jobs:
            job.thumbnail = None  # written: do not hold it until the answer
    return [job for job in jobs if job.prepared is not None]


def _worker(
    decoders: DecodePool, input_size: int, limits: Limits, keep_photo: bool, thumbnails: bool
) -> Callable[[list[Job]], Awaitable[list[Job]]]:
    side = DISPLAY_SIZE if keep_photo else 0

    async def work(chunk: list[Job]) -> list[Job]:
        fn = partial(_decode_chunk, input_size, limits, side, thumbnails)
        await decoders.run(fn, chunk)
        return [job for job in chunk if job.prepared is not None]

    return work


def _decode_chunk(
    input_size: int, limits: Limits, photo_side: int, thumbnails: bool, jobs: list[Job]
) -> None:
    """On a decoding thread: every CPU step of each image that works on its pixels."""
    for job in jobs:
        result = try_prepare(
            job.sub.data, input_size, limits, sha256=job.sha256, photo_side=photo_side
        )
        if isinstance(result, ImageRejected):
            job.refused = result
            continue
        job.prepared = result
        job.fingerprint = fingerprint(result.small, result.small_grey).to_bytes()
        if thumbnails:
            job.thumbnail = thumbnail_from_photo(result.small)


def _chunks(jobs: list[Job]) -> list[list[Job]]:
    return [jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK)]


def _input(job: Job) -> np.ndarray:
    assert job.prepared is not None
    return job.prepared.model_input
