"""The scoring engine of one app: the current model, the micro-batcher and the decoding pool.

Routes use it through `deps.get_engine`. The model can be swapped at run time (`swap`, used by
hot reload): requests already in a batch finish on the model they started with, and every
result says which model produced it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from counterscan.contract import ModelContract
from counterscan.images import DECODE_MIN_SIDE
from counterscan.serve.inference.batching import MicroBatcher, Scored, run_batch
from counterscan.serve.inference.heatmap import DISPLAY_SIZE, overlay_png
from counterscan.serve.inference.model import Scorer, Threads
from counterscan.serve.metrics import Metrics
from counterscan.serve.pipeline.admission import ImageBudget
from counterscan.serve.pipeline.prepare import ImageRejected, Limits, Prepared, prepare
from counterscan.serve.settings import Settings


class Engine:
    def __init__(self, scorer: Scorer, settings: Settings, metrics: Metrics) -> None:
        self._scorer = scorer
        self.settings = settings
        self.metrics = metrics
        self.limits = Limits(
            settings.max_image_bytes, settings.max_image_pixels, settings.min_image_side
        )
        self.threads = Threads.from_settings(settings)
        self.batcher = MicroBatcher(
            lambda: self._scorer,
            metrics,
            max_size=settings.batch_max_size,
            max_wait_s=settings.batch_max_wait_ms / 1000.0,
            enabled=settings.batching,
        )
        self.admission = ImageBudget(settings.max_inflight_images)
        # Decoding (Pillow releases the GIL) runs here, off the event loop.
        self._decoders = ThreadPoolExecutor(settings.decode_threads, thread_name_prefix="decode")
        self.ready = False
        metrics.set_model(scorer.contract)

    # ------------------------------------------------------------------ the model

    @property
    def scorer(self) -> Scorer:
        return self._scorer

    @property
    def contract(self) -> ModelContract:
        return self._scorer.contract

    def swap(self, scorer: Scorer) -> Scorer:
        """Serve `scorer` from now on (it must be warmed up already); returns the old one."""
        old, self._scorer = self._scorer, scorer
        self.metrics.set_model(scorer.contract)
        return old

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._decoders, self._scorer.warm_up)
        await self.batcher.start()
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        await self.batcher.stop()
        self._decoders.shutdown(wait=True)

    # ------------------------------------------------------------------ scoring

    async def prepare_many(
        self, images: Sequence[bytes], *, keep_photo: bool = False, sha256s: Sequence[str] = ()
    ) -> list[Prepared | ImageRejected]:
        """Decode images in parallel; a bad one becomes an ImageRejected in its slot.
        `keep_photo`: keep the photo large enough for a heat-map overlay (else thumbnail size)."""
        loop = asyncio.get_running_loop()
        size = self._scorer.input_size
        side = DISPLAY_SIZE if keep_photo else DECODE_MIN_SIDE
        hashes = list(sha256s) or [None] * len(images)

        def one(data: bytes, sha: str | None) -> Prepared | ImageRejected:
            try:
                return prepare(data, size, self.limits, sha256=sha, photo_side=side)
            except ImageRejected as e:
                return e

        tasks = [
            loop.run_in_executor(self._decoders, one, data, sha)
            for data, sha in zip(images, hashes, strict=True)
        ]
        return list(await asyncio.gather(*tasks))

    async def score(self, prepared: Sequence[Prepared]) -> list[Scored]:
        """Model outputs for prepared images, through the micro-batcher."""
        return await self.batcher.score([p.model_input for p in prepared])

    async def heatmap_for(self, prepared: Prepared, scored: Scored) -> bytes:
        """PNG overlay for an image already scored (its photo kept by prepare_many)."""
        if prepared.photo is None:
            raise ValueError("the image was prepared without its photo")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._decoders, overlay_png, prepared.photo, scored.cam)

    def heatmap_png(self, image_bytes: bytes) -> bytes:
        """Stored image bytes -> PNG heat-map overlay. Synchronous and thread-safe (call it from
        a plain `def` route, or through `aheatmap_png` from async code). Raises ImageRejected."""
        scorer = self._scorer
        prepared = prepare(image_bytes, scorer.input_size, self.limits, photo_side=DISPLAY_SIZE)
        (scored,) = run_batch(scorer, [prepared.model_input])
        assert prepared.photo is not None
        return overlay_png(prepared.photo, scored.cam)

    async def aheatmap_png(self, image_bytes: bytes) -> bytes:
        prepared = (await self.prepare_many([image_bytes], keep_photo=True))[0]
        if isinstance(prepared, ImageRejected):
            raise prepared
        (scored,) = await self.score([prepared])
        return await self.heatmap_for(prepared, scored)
