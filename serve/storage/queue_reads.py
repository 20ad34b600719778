"""The ranked queue, read: pages by offset or keyset cursor, capped counts, the re-flag scan.

A mixin of `Store` (store.py), kept apart because reading the queue at millions of rows has
rules of its own (queue.py builds the SQL, counting.py caps the counts; bench/README.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from counterscan.serve.storage import counting
from counterscan.serve.storage import queue as q
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.records import ItemRecord, Page
from counterscan.serve.storage.rows import item_from_row


class QueueReads:
    """Needs `_read()` (a read connection) and `exact_count_up_to` from the Store."""

    exact_count_up_to: int

    def _read(self) -> AbstractContextManager[Connection]:  # provided by Store
        raise NotImplementedError

    def queue(
        self,
        status: str = "unreviewed",
        priorities: Iterable[str] | None = None,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[ItemRecord], int]:
        """One page of the ranked queue and the number of matching items (estimated beyond
        counting.EXACT_UP_TO; queue_page says which)."""
        page = self.queue_page(status, priorities, source, since, until, limit, offset)
        return page.items, page.total

    def queue_page(
        self,
        status: str = "unreviewed",
        priorities: Iterable[str] | None = None,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
        after: str | None = None,
    ) -> Page:
        """One page of the ranked queue: `offset` rows skipped after the cursor `after` (the
        `next_cursor` of the page before; None: from the top), the total, the next cursor."""
        f = q.QueueFilter.build(status, priorities, source, since, until)
        q.check_page(limit, offset)
        position = q.Position.parse(after) if after is not None else None
        with self._read() as conn:
            total = self._count(conn, f)
            items, following = _ranked(conn, q.page_query(f, limit + 1, offset, position), limit)
        return Page(items, total.n, total.is_estimate, following)

    def match_candidates(self, after: str | None, limit: int) -> Page:
        """Unreviewed queued items with their similar-case vectors, `limit` at a time in queue
        order by keyset (the re-flag scan, similar/reflag.py). Not counted: total is 0."""
        position = q.Position.parse(after) if after is not None else None
        query = q.page_query(q.QueueFilter(), limit + 1, 0, position, columns=list(s.items.c))
        with self._read() as conn:
            items, following = _ranked(conn, query, limit)
        return Page(items, 0, False, following)

    def queue_depth(self) -> dict[str, int]:
        """Unreviewed items per priority (for /metrics; estimated beyond the exact cap)."""
        with self._read() as conn:
            return {p: self._count(conn, q.QueueFilter(priorities=(p,))).n for p in s.PRIORITIES}

    def _count(self, conn: Connection, f: q.QueueFilter) -> counting.Count:
        return counting.count(
            conn,
            q.count_rows(f),
            exact_up_to=self.exact_count_up_to,
            estimate_rows=q.count_rows(f, cases=False),
        )


def _ranked(conn: Connection, query: Any, limit: int) -> tuple[list[ItemRecord], str | None]:
    """The first `limit` rows of a queue query asked for limit + 1, and the next cursor."""
    rows = conn.execute(query).mappings().all()
    following = q.Position.of(rows[limit - 1]).token() if len(rows) > limit else None
    return [item_from_row(r) for r in rows[:limit]], following
