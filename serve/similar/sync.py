"""Every worker and every server on one database follows the verdicts given anywhere.

Each process (a uvicorn worker, a server) holds its reference sets in memory (service.py); a
verdict updates at once only the process that received it. The others follow the `verdicts`
table: it is append-only and its ids grow in commit order (`Store.add_verdict` serialises
verdicts with a transaction lock on PostgreSQL; SQLite has one writer at a time), so "the newest
verdict id applied" is a complete watermark. A thread reads `max(verdicts.id)` (one index
lookup) every `similar_sync_seconds`; when it grew, it reads only the items whose verdicts are
newer and moves each to the set of its current verdict: counterfeit, genuine, or none (unsure).

Bound: a committed verdict changes matching in every process within `similar_sync_seconds`
(settings.py, default 1 s) plus one read of the changed items (milliseconds).

Items scored elsewhere inside that window were matched against the old sets, and the re-flag
scan of the receiving process may have run before they were stored. So the receiving process
scans the items created since shortly before the verdict once more, after every process has
caught up (`later`): nothing that copies a confirmed counterfeit stays unraised.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select

from counterscan.serve.similar.references import Photo
from counterscan.serve.similar.service import SimilarCases
from counterscan.serve.storage import ItemRecord, Store
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.queue import in_a_case, item_query
from counterscan.serve.storage.rows import item_from_row

log = logging.getLogger(__name__)

# Items created this long before a verdict are scanned again (server clocks, slow commits).
CLOCK_SLACK_S = 30.0
_LATE_PAGE = 500


def newest_verdict_id(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.max(s.verdicts.c.id))).scalar_one() or 0)


def items_judged_after(store: Store, after: int, upto: int) -> list[ItemRecord]:
    """Items with a verdict whose id is in (after, upto], as they are now (current verdict)."""
    judged = select(s.verdicts.c.item_id).where(s.verdicts.c.id > after, s.verdicts.c.id <= upto)
    with store.read() as conn:
        rows = conn.execute(item_query().where(s.items.c.id.in_(judged))).mappings().all()
    return [item_from_row(r) for r in rows]


def unreviewed_since(store: Store, since: datetime) -> list[list[ItemRecord]]:
    """Unreviewed items created at or after `since` (in no case, as in the queue), in pages."""
    t = s.items.c
    query = item_query().where(t.status == "unreviewed", t.created_at >= since, ~in_a_case())
    with store.read() as conn:
        rows = conn.execute(query.order_by(t.created_at, t.id)).mappings().all()
    items = [item_from_row(r) for r in rows]
    return [items[i : i + _LATE_PAGE] for i in range(0, len(items), _LATE_PAGE)]


class VerdictFollower:
    """Keeps one process's SimilarCases in step with the verdicts table (a daemon thread)."""

    def __init__(
        self,
        cases: SimilarCases,
        store: Store,
        interval_s: float,
        on_caught_up: Callable[[int], None] | None = None,
    ) -> None:
        self.cases, self.store, self.interval_s = cases, store, interval_s
        self.seen = 0  # the newest verdict id whose effect this process has
        self.on_caught_up = on_caught_up  # e.g. a metrics gauge
        self._late: list[tuple[float, Photo, datetime]] = []  # (due, reference, since)
        self._late_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> int:
        """The first load: the watermark is read first, so a verdict committed during the
        load is applied again by the first poll (applying is idempotent)."""
        self.seen = newest_verdict_id(self.store)
        n = self.cases.load(self.store)
        self._report()
        return n

    def poll(self) -> int:
        """Apply every verdict committed since the last poll; returns how many items moved."""
        newest = newest_verdict_id(self.store)  # first: the next read sees at least these
        if newest <= self.seen:
            return 0
        items = items_judged_after(self.store, self.seen, newest)
        for item in items:
            self.cases.on_verdict(self.store, item)
        self.seen = newest
        self._report()
        log.debug("similar cases: %d items follow verdicts up to %d", len(items), newest)
        return len(items)

    def later(self, reference: Photo, verdict_at: datetime) -> None:
        """Re-flag the items created since shortly before `verdict_at` once every process has
        caught up (two intervals from now)."""
        since = verdict_at - timedelta(seconds=CLOCK_SLACK_S)
        with self._late_lock:
            self._late.append((time.monotonic() + 2 * self.interval_s, reference, since))

    def run_due(self) -> list[str]:
        """Run the late re-flag scans that are due; returns the items raised."""
        now = time.monotonic()
        with self._late_lock:
            due = [job for job in self._late if job[0] <= now]
            self._late = [job for job in self._late if job[0] > now]
        raised: list[str] = []
        for _, reference, since in due:
            raised += self.cases.reflag(
                self.store, reference, pages=unreviewed_since(self.store, since)
            )
        return raised

    # ------------------------------------------------------------------ the thread

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="similar-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.poll()
                self.run_due()
            except Exception as e:  # the database may be down a while: try again next time
                log.warning("similar cases: cannot follow verdicts now: %s", e)

    def _report(self) -> None:
        if self.on_caught_up is not None:
            self.on_caught_up(self.seen)
