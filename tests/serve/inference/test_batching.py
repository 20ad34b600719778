"""Micro-batching: concurrent requests share ONNX Runtime calls, results stay per image."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from counterscan.serve.inference.batching import MicroBatcher, run_batch
from counterscan.serve.inference.model import Scorer, Threads
from counterscan.serve.metrics import Metrics


@pytest.fixture(scope="module")
def scorer(onnx_model_path) -> Scorer:
    return Scorer.load(onnx_model_path, Threads(intra_op=1))


def _images(n: int, size: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n)]


def _batch_stats(metrics: Metrics) -> tuple[float, float]:
    reg = metrics.registry
    count = reg.get_sample_value("counterscan_inference_batch_size_count") or 0.0
    total = reg.get_sample_value("counterscan_inference_batch_size_sum") or 0.0
    return count, total


def _score_each(batcher: MicroBatcher, images: list[np.ndarray]) -> list[float]:
    """Each image submitted on its own, all at once; the probabilities, in order."""

    async def main() -> list[float]:
        await batcher.start()
        try:
            results = await asyncio.gather(*(batcher.score([im]) for im in images))
        finally:
            await batcher.stop()
        return [r[0].prob for r in results]

    return asyncio.run(main())


def test_concurrent_submissions_share_one_call(scorer: Scorer) -> None:
    metrics = Metrics()
    images = _images(8, scorer.input_size)

    batcher = MicroBatcher(lambda: scorer, metrics, max_size=16, max_wait_s=0.2)
    probs = _score_each(batcher, images)
    assert _batch_stats(metrics) == (1.0, 8.0)  # one ORT call of 8
    alone = [s.prob for s in run_batch(scorer, images)]
    np.testing.assert_allclose(probs, alone, atol=1e-5)  # each got its own result back


def test_max_size_splits_batches(scorer: Scorer) -> None:
    metrics = Metrics()

    async def main() -> int:
        batcher = MicroBatcher(lambda: scorer, metrics, max_size=4, max_wait_s=0.05)
        await batcher.start()
        try:
            return len(await batcher.score(_images(10, scorer.input_size)))
        finally:
            await batcher.stop()

    assert asyncio.run(main()) == 10
    count, total = _batch_stats(metrics)
    assert total == 10 and count == 3  # 4 + 4 + 2


def test_batching_off_calls_the_model_per_request(scorer: Scorer) -> None:
    metrics = Metrics()

    async def main() -> None:
        batcher = MicroBatcher(lambda: scorer, metrics, max_size=8, enabled=False)
        await batcher.start()
        await asyncio.gather(*(batcher.score([im]) for im in _images(4, scorer.input_size)))
        await batcher.stop()

    asyncio.run(main())
    assert _batch_stats(metrics) == (4.0, 4.0)


def test_a_failing_model_call_fails_its_requests_not_the_batcher(scorer: Scorer) -> None:
    metrics = Metrics()

    async def main() -> None:
        batcher = MicroBatcher(lambda: scorer, metrics, max_size=4, max_wait_s=0.0)
        await batcher.start()
        try:
            with pytest.raises(ValueError):
                await batcher.score([np.zeros((5, 5), np.uint8)])  # wrong shape
            ok = await batcher.score(_images(1, scorer.input_size))
            assert 0.0 <= ok[0].prob <= 1.0
        finally:
            await batcher.stop()

    asyncio.run(main())


class MeetingScorer(Scorer):
    """The served model, whose calls wait until `parties` calls are inside it at once: a call
    that has to wait for another to finish first never gets there (BrokenBarrierError)."""

    def __init__(self, real: Scorer, parties: int) -> None:
        self.__dict__.update(real.__dict__)  # the same ORT session and contract
        self.meeting = threading.Barrier(parties, timeout=MEET_S)

    def score(self, batch: np.ndarray) -> Any:
        self.meeting.wait()
        return super().score(batch)


MEET_S = 5.0  # how long a call waits for the other: far beyond a thread start


@pytest.mark.parametrize("calls", [2, 3])
def test_model_calls_run_that_many_batches_at_once(scorer: Scorer, calls: int) -> None:
    meeting = MeetingScorer(scorer, calls)
    metrics = Metrics()
    images = _images(2 * calls, scorer.input_size)

    batcher = MicroBatcher(lambda: meeting, metrics, max_size=2, max_wait_s=0.0, calls=calls)
    probs = _score_each(batcher, images)  # one call at a time would break the barrier
    alone = [s.prob for s in run_batch(scorer, images)]
    np.testing.assert_allclose(probs, alone, atol=1e-5)
    assert _batch_stats(metrics)[1] == 2 * calls


def test_one_model_call_at_a_time_by_default(scorer: Scorer) -> None:
    meeting = MeetingScorer(scorer, 2)
    meeting.meeting = threading.Barrier(2, timeout=0.5)

    batcher = MicroBatcher(lambda: meeting, Metrics(), max_size=1, max_wait_s=0.0)
    with pytest.raises(threading.BrokenBarrierError):
        _score_each(batcher, _images(2, scorer.input_size))


def test_model_calls_share_out_the_ort_threads(serve_settings) -> None:
    assert Threads.from_settings(serve_settings(intra_op_threads=2)).intra_op == 2
    assert Threads.from_settings(serve_settings(intra_op_threads=2, model_calls=2)).intra_op == 1
    assert Threads.from_settings(serve_settings(intra_op_threads=1, model_calls=2)).intra_op == 1
    assert Threads.from_settings(serve_settings(intra_op_threads=8, model_calls=3)).intra_op == 2


class GatedScorer(Scorer):
    """The served model, whose calls wait at a gate the test opens: the requests that arrive
    meanwhile queue up in the batcher, as they do behind a long model call under load."""

    def __init__(self, real: Scorer) -> None:
        self.__dict__.update(real.__dict__)  # the same ORT session and contract
        self.gate = threading.Event()
        self.calls: list[int] = []  # images per model call, in order

    def score(self, batch: np.ndarray) -> Any:
        self.calls.append(len(batch))
        assert self.gate.wait(HANG_S), "the test never opened the gate"
        return super().score(batch)


HANG_S = 120  # only a hang guard: nothing below depends on how fast requests arrive


def test_concurrent_http_requests_are_batched(make_client, make_image) -> None:
    """Eight requests in flight while the model is busy take at most two model calls: the one
    that was running and one for everything that queued behind it. Event-ordered, no time
    window: the batcher never waits for more (batch_max_wait_ms=0), and the model's first call
    is held until every other request is queued."""
    client = make_client(batch_max_wait_ms=0, batch_max_size=32)
    served = client.app.state.model  # inference.served.ServedModel
    gated = GatedScorer(served.scorer)
    served.swap(gated)
    registry = client.app.state.metrics.registry
    images = [make_image(seed=500 + i) for i in range(8)]

    def post(data: bytes) -> int:
        r = client.post("/v1/score", files={"image": ("p.jpg", data, "image/jpeg")})
        return r.status_code

    def waiting() -> float:
        held = gated.calls[0] if gated.calls else 0
        return held + (registry.get_sample_value("counterscan_batch_queue_depth") or 0.0)

    with ThreadPoolExecutor(8) as pool:
        answers = [pool.submit(post, data) for data in images]
        deadline = time.monotonic() + HANG_S
        while waiting() < 8:  # each request is in the held call or queued behind it
            assert time.monotonic() < deadline, (
                f"{waiting():.0f} of 8 requests in the model call or the queue"
            )
            time.sleep(0.01)
        gated.gate.set()
        assert [a.result(timeout=HANG_S) for a in answers] == [200] * 8
    first = gated.calls[0]
    assert gated.calls == ([8] if first == 8 else [first, 8 - first]), gated.calls
    count, total = _batch_stats_text(client.get("/metrics").text)
    assert (count, total) == (len(gated.calls), 8)  # (the warm-up bypasses the batcher)


def _batch_stats_text(metrics: str) -> tuple[float, float]:
    samples = dict(
        line.rsplit(" ", 1)
        for line in metrics.splitlines()
        if line.startswith("counterscan_inference_batch_size_")
    )
    count = float(samples["counterscan_inference_batch_size_count"])
    total = float(samples["counterscan_inference_batch_size_sum"])
    return count, total
