"""Micro-batching: images from concurrent requests share one ONNX Runtime call.

Under load, whatever images are waiting (up to `max_size`, waiting at most `max_wait_s` after
the first one) are scored together, so one call serves many requests and the model never sits
idle between them. Whether a larger batch is also cheaper per image depends on the machine (on 2
cores it is not; bench/README.md), which is why the setting `batch_max_size` is small by
default. ORT calls run in worker threads, so the event loop keeps accepting requests meanwhile;
images that arrive while every call is busy form the next batch.

    request A ──┐
    request B ──┼─> queue ─> collector task ─> [A, B, C] ─> ORT (worker thread) ─> futures
    request C ──┘

Calls run `calls` at a time (settings.model_calls), each in its own worker thread, and each
holds its own activations. With batching off, every request makes its own ORT calls (for
comparison and debugging).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from counterscan.images import resize_to_square
from counterscan.serve.inference.model import Scorer
from counterscan.serve.metrics import Metrics
from counterscan.serve.settings import Settings

log = logging.getLogger("counterscan.serve")

# The defaults are the service's settings (COUNTERSCAN_BATCH_MAX_SIZE, ..._MAX_WAIT_MS).
_SETTINGS = Settings.model_fields
DEFAULT_MAX_SIZE: int = _SETTINGS["batch_max_size"].default
DEFAULT_MAX_WAIT_S: float = _SETTINGS["batch_max_wait_ms"].default / 1000.0


class Scored(NamedTuple):
    """One image's model outputs, and which model produced them."""

    prob: float
    embedding: np.ndarray  # (D,)
    cam: np.ndarray  # (h, w)
    scorer: Scorer


@dataclass
class _Job:
    image: np.ndarray  # (S, S, 3) uint8 at the model's input size when queued
    future: asyncio.Future[Scored]


def run_batch(scorer: Scorer, images: list[np.ndarray]) -> list[Scored]:
    """Score images in one ORT call. An image prepared for a model of another input size (a
    reload happened while it waited) is resized to this one's."""
    size = scorer.input_size
    fitted = [im if im.shape[0] == size else resize_to_square(im, size) for im in images]
    out = scorer.score(np.stack(fitted))  # (N, S, S, 3) -> (N,), (N, D), (N, h, w)
    return [
        Scored(float(out.prob[i]), out.embedding[i], out.cam[i], scorer) for i in range(len(images))
    ]


class MicroBatcher:
    def __init__(
        self,
        get_scorer: Callable[[], Scorer],
        metrics: Metrics,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        enabled: bool = True,
        calls: int = 1,
    ) -> None:
        self.get_scorer = get_scorer
        self.metrics = metrics
        self.max_size = max_size
        self.max_wait_s = max_wait_s
        self.enabled = enabled
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # `calls` threads (settings.model_calls): ORT parallelises inside a call with its
        # intra-op threads; more calls at once trade single-image latency for throughput.
        self._executor = ThreadPoolExecutor(max_workers=calls, thread_name_prefix="ort")
        self._free_calls = asyncio.Semaphore(calls)
        self._running: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._collect(), name="micro-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._running):
            task.cancel()  # _run fails its requests
        await asyncio.gather(*self._running, return_exceptions=True)
        while not self._queue.empty():
            _fail([self._queue.get_nowait()], RuntimeError("the server is shutting down"))
        self.metrics.queue_depth.set(0)
        self._executor.shutdown(wait=True)

    async def score(self, images: list[np.ndarray]) -> list[Scored]:
        """Score (S, S, 3) uint8 images; results in the same order."""
        if not images:
            return []
        if not self.enabled:
            return await self._score_direct(images)
        loop = asyncio.get_running_loop()
        jobs = [_Job(im, loop.create_future()) for im in images]
        for job in jobs:
            self._queue.put_nowait(job)
        self.metrics.queue_depth.set(self._queue.qsize())
        return list(await asyncio.gather(*(j.future for j in jobs)))

    async def _score_direct(self, images: list[np.ndarray]) -> list[Scored]:
        loop = asyncio.get_running_loop()
        results: list[Scored] = []
        for start in range(0, len(images), self.max_size):
            chunk = images[start : start + self.max_size]
            results += await loop.run_in_executor(
                self._executor, self._timed_run, self.get_scorer(), chunk
            )
        return results

    def _timed_run(self, scorer: Scorer, images: list[np.ndarray]) -> list[Scored]:
        start = time.perf_counter()
        results = run_batch(scorer, images)
        self.metrics.inference_seconds.observe(time.perf_counter() - start)
        self.metrics.batch_size.observe(len(images))
        return results

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # A free call first, then the batch: images that arrive while every call is busy
            # wait in the queue and form the next batch together.
            await self._free_calls.acquire()
            jobs = [await self._queue.get()]
            deadline = loop.time() + self.max_wait_s
            while len(jobs) < self.max_size:
                # Take what is already waiting first; only then wait out the deadline.
                if not self._queue.empty():
                    jobs.append(self._queue.get_nowait())
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    jobs.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            self.metrics.queue_depth.set(self._queue.qsize())
            task = asyncio.create_task(self._run_then_free(loop, jobs))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run_then_free(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        try:
            await self._run(loop, jobs)
        finally:
            self._free_calls.release()

    async def _run(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        live = [j for j in jobs if not j.future.done()]  # a client may have gone away
        if not live:
            return
        try:
            results = await loop.run_in_executor(
                self._executor, self._timed_run, self.get_scorer(), [j.image for j in live]
            )
        except asyncio.CancelledError:  # shutting down mid-call
            _fail(live, RuntimeError("the server is shutting down"))
            raise
        except Exception as e:  # a model failure fails these requests, not the batcher
            log.exception("inference failed for a batch of %d", len(live))
            _fail(live, e)
            return
        for job, result in zip(live, results, strict=True):
            if not job.future.done():
                job.future.set_result(result)


def _fail(jobs: list[_Job], error: BaseException) -> None:
    for job in jobs:
        if not job.future.done():
            job.future.set_exception(error)
