"""The model being served now, behind its micro-batcher.

Hot reload swaps the model (`swap`): images already in a batch finish on the model they started
with, and every result (`Scored.scorer`) says which model produced it.
"""

from __future__ import annotations

import anyio.to_thread
import numpy as np

from counterscan.contract import ModelContract
from counterscan.serve.inference.batching import MicroBatcher, Scored
from counterscan.serve.inference.model import Scorer, Threads
from counterscan.serve.metrics import Metrics
from counterscan.serve.settings import Settings


class ServedModel:
    def __init__(self, scorer: Scorer, settings: Settings, metrics: Metrics) -> None:
        self._scorer = scorer
        self.metrics = metrics
        self.threads = Threads.from_settings(settings)  # reloaded models get the same
        self.batcher = MicroBatcher(
            lambda: self._scorer,
            metrics,
            max_size=settings.batch_max_size,
            max_wait_s=settings.batch_max_wait_ms / 1000.0,
            enabled=settings.batching,
            calls=settings.model_calls,
        )
        self.ready = False
        metrics.set_model(scorer.contract)

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

    async def start(self) -> None:
        await anyio.to_thread.run_sync(self._scorer.warm_up)
        await self.batcher.start()
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        await self.batcher.stop()

    async def score(self, images: list[np.ndarray]) -> list[Scored]:
        """Model outputs for (S, S, 3) uint8 model inputs, in order, through the micro-batcher."""
        return await self.batcher.score(images)
