"""The re-flag after a counterfeit verdict, as one bounded background job per process.

A new confirmed counterfeit may match items already waiting in the queue. No database index
finds them: near-duplicates are told by colour histograms and alignment, similar photos by
embedding cosine (matching.py), and neither is something SQL can index on both databases. So
the queue is read, but the read is bounded so that it never slows the verdict or the queue:

- the verdict request only hands the new reference to this job (constant time);
- one thread per process scans; references that arrive during a pass wait for the next pass,
  which checks all of them in one read of the queue (ten verdicts: one pass, not ten);
- a pass reads the unreviewed queue by keyset, BATCH rows at a time (each an index range of
  ix_items_queue: the same cost at any depth), raising matches batch by batch, and rests
  `pause_share` of the time it worked after each batch, so it takes at most about
  1 / (1 + pause_share) of one core and of one database connection.

References are held in memory: a process that stops mid-pass forgets its pending ones (items
scored later are still matched at scoring time, by every process that has the reference).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

BATCH = 500  # unreviewed items read per query
PAUSE_SHARE = 3.0  # rest this much of each batch's working time: at most a quarter of a core


class ReflagJob:
    """Runs `scan(store, *references, batch=...)` (SimilarCases.reflag) in a thread of its own,
    one pass at a time, with every reference submitted since the last pass began."""

    def __init__(
        self,
        scan: Callable[..., list[str]],
        *,
        batch: int = BATCH,
        pause_share: float = PAUSE_SHARE,
    ) -> None:
        self.scan = scan
        self.batch = batch
        self.pause_share = pause_share
        self.passes = 0  # finished passes (tests, logs)
        self._pending: list[tuple[Any, Any]] = []  # (store, reference)
        self._lock = threading.Condition()
        self._running = False
        self._thread: threading.Thread | None = None

    def submit(self, store: Any, reference: Any) -> None:
        """Queue a new reference; returns at once."""
        with self._lock:
            self._pending.append((store, reference))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="reflag", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is pending or running (tests, shutdown). False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def rest(self, worked_s: float) -> None:
        """Called by the scan after each batch: yield the core and the database a while."""
        if self.pause_share > 0:
            time.sleep(worked_s * self.pause_share)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    return  # the next submit starts a new thread
                batch, self._pending = self._pending, []
                self._running = True
            try:
                for store in {id(s): s for s, _ in batch}.values():
                    refs = [r for s, r in batch if s is store]
                    self.scan(store, *refs, batch=self.batch, rest=self.rest)
            except Exception:  # a failed pass must not end the job: log it, go on
                log.exception("similar cases: re-flag pass failed")
            finally:
                with self._lock:
                    self._running = False
                    self.passes += 1
                    self._lock.notify_all()
