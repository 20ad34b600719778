"""A bound on the images the service works on at once, so its memory does not grow with the
number of clients.

Each image being scored holds its decoded photo, its model input and its upload. The model is
the slowest step, so without a bound every waiting request decodes its images and holds them
until its turn (memory under load: bench/README.md). Requests beyond the bound wait, first come
first served, before decoding anything; the model stays busy as long as the bound covers a few
model calls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class ImageBudget:
    """At most `capacity` images held at once. A request for more than the capacity waits
    until it can have all of it, so one large batch is never refused, only serialised."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.in_use = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @contextlib.asynccontextmanager
    async def hold(self, images: int) -> AsyncIterator[None]:
        n = max(0, min(images, self.capacity))
        await self._acquire(n)
        try:
            yield
        finally:
            self._release(n)

    async def _acquire(self, n: int) -> None:
        # First come, first served: nobody overtakes a waiter, or a steady flow of single images
        # could keep a batch waiting for ever.
        if not self._waiters and self.in_use + n <= self.capacity:
            self.in_use += n
            return
        entry = (n, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            await entry[1]
        except asyncio.CancelledError:
            if entry[1].done() and not entry[1].cancelled():
                self._release(n)  # granted, then the client went away
            else:
                with contextlib.suppress(ValueError):  # _wake may have dropped it already
                    self._waiters.remove(entry)
                self._wake()  # the head may have changed
            raise

    def _release(self, n: int) -> None:
        self.in_use -= n
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_use + self._waiters[0][0] <= self.capacity:
            n, future = self._waiters.popleft()
            if future.done():  # cancelled while queued
                continue
            self.in_use += n
            future.set_result(None)
