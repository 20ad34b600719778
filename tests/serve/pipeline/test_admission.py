"""The bound on images in flight: never exceeded, first come first served, nothing leaks when
a waiting or admitted request is cancelled, and the HTTP service still answers under it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from counterscan.serve.pipeline.admission import ImageBudget


async def _hold(budget: ImageBudget, n: int, log: list[str], name: str, seconds: float) -> None:
    async with budget.hold(n):
        assert budget.in_use <= budget.capacity
        log.append(f"start {name}")
        await asyncio.sleep(seconds)
    log.append(f"end {name}")


def test_capacity_is_never_exceeded_and_order_is_kept() -> None:
    async def main() -> list[str]:
        budget = ImageBudget(10)
        log: list[str] = []
        first = asyncio.create_task(_hold(budget, 8, log, "a", 0.05))
        await asyncio.sleep(0)
        # b (5) does not fit beside a (8); c (1) would, but must not overtake b.
        b = asyncio.create_task(_hold(budget, 5, log, "b", 0.01))
        await asyncio.sleep(0)
        c = asyncio.create_task(_hold(budget, 1, log, "c", 0.01))
        await asyncio.sleep(0.01)
        assert budget.waiting == 2 and budget.in_use == 8
        await asyncio.gather(first, b, c)
        assert budget.in_use == 0 and budget.waiting == 0
        return log

    log = asyncio.run(main())
    assert log.index("start b") < log.index("start c")
    assert log.index("end a") < log.index("start b")


def test_a_request_larger_than_the_capacity_runs_alone() -> None:
    async def main() -> None:
        budget = ImageBudget(4)
        log: list[str] = []
        await asyncio.gather(_hold(budget, 2, log, "small", 0.02), _hold(budget, 50, log, "big", 0))
        assert log.index("end small") < log.index("start big")
        assert budget.in_use == 0

    asyncio.run(main())


def test_cancelled_waiters_and_holders_give_everything_back() -> None:
    async def main() -> None:
        budget = ImageBudget(3)
        log: list[str] = []
        holder = asyncio.create_task(_hold(budget, 3, log, "holder", 10))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(_hold(budget, 2, log, "waiter", 0))
        later = asyncio.create_task(_hold(budget, 1, log, "later", 0))
        await asyncio.sleep(0.01)
        waiter.cancel()
        holder.cancel()
        for task in (waiter, holder):
            with pytest.raises(asyncio.CancelledError):
                await task
        await asyncio.wait_for(later, 1)  # not stuck behind the cancelled waiter
        assert budget.in_use == 0 and budget.waiting == 0
        assert "start waiter" not in log

    asyncio.run(main())


def test_service_scores_concurrent_batches_under_a_small_budget(make_client, make_image) -> None:
    client = make_client(max_inflight_images=3)
    files = [
        ("images", (f"{i}.png", make_image("PNG", (80, 60), i), "image/png")) for i in range(5)
    ]

    def post() -> list[bool]:
        r = client.post("/v1/score/batch", files=files)
        assert r.status_code == 200, r.text
        return [x["ok"] for x in r.json()["results"]]

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: post(), range(3)))
    assert all(all(ok) for ok in results)
