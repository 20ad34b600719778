"""The inspection queue as one parameterised query: filters, then the fixed ranking.

Ranking: priority (high, medium, low), then score (highest first), then age (oldest first),
then id, so that pages never overlap or skip rows when scores and times tie.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Exists, Select, exists, func, select

from counterscan.errors import CounterscanError
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.fields import check_text

QUEUE_STATUSES = ("unreviewed", "reviewed", "all")
MAX_LIMIT = 500
# Far beyond any queue, and within a 64-bit SQL integer (SQLite overflows past that).
MAX_OFFSET = 1_000_000_000


@dataclass(frozen=True)
class QueueFilter:
    status: str = "unreviewed"  # "unreviewed" | "reviewed" | "all"
    priorities: tuple[str, ...] = ()  # empty = every priority
    source: str | None = None
    since: datetime | None = None  # created_at >= since (aware)
    until: datetime | None = None  # created_at < until (aware)

    @classmethod
    def build(
        cls,
        status: str = "unreviewed",
        priorities: Iterable[str] | None = None,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> QueueFilter:
        """Validate the caller's values; every problem is a one-line CounterscanError."""
        if status not in QUEUE_STATUSES:
            raise CounterscanError(f"unknown status {status!r} (use {', '.join(QUEUE_STATUSES)})")
        wanted = tuple(dict.fromkeys(p.strip().lower() for p in priorities or () if p.strip()))
        unknown = [p for p in wanted if p not in s.PRIORITIES]
        if unknown:
            raise CounterscanError(
                f"unknown priority {unknown[0]!r} (use {', '.join(s.PRIORITIES)})"
            )
        for name, moment in (("since", since), ("until", until)):
            if moment is not None and moment.tzinfo is None:
                raise CounterscanError(f"{name} needs a time zone (e.g. 2025-01-31T00:00:00Z)")
        # The same rules as a stored source (length, no NUL, which PostgreSQL refuses).
        return cls(status, wanted, check_text("source", source or None), since, until)


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise CounterscanError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise CounterscanError(f"offset must be 0 or more, not {offset}")
    if offset > MAX_OFFSET:
        raise CounterscanError(f"offset must be at most {MAX_OFFSET}, not {offset}")


def in_a_case() -> Exists:
    """The item is in a case (storage/cases.py): the case is where it is dealt with now, so it
    leaves the unreviewed queue (and comes back if it is removed from the case)."""
    return exists().where(s.case_items.c.item_id == s.items.c.id)


def _where(query: Select, f: QueueFilter) -> Select:
    if f.status != "all":
        query = query.where(s.items.c.status == f.status)
    if f.status == "unreviewed":
        query = query.where(~in_a_case())
    if f.priorities:
        query = query.where(s.items.c.priority_rank.in_([s.PRIORITY_RANK[p] for p in f.priorities]))
    if f.source is not None:
        query = query.where(s.items.c.source == f.source)
    if f.since is not None:
        query = query.where(s.items.c.created_at >= f.since)
    if f.until is not None:
        query = query.where(s.items.c.created_at < f.until)
    return query


def item_query() -> Select:
    """Items with their latest verdict (outer join: unreviewed items have none)."""
    joined = s.items.outerjoin(s.verdicts, s.verdicts.c.id == s.items.c.verdict_id)
    return select(s.items, *verdict_columns()).select_from(joined)


def page_query(f: QueueFilter, limit: int, offset: int) -> Select:
    """One page of matching items, ranked."""
    return (
        _where(item_query(), f)
        .order_by(
            s.items.c.priority_rank,
            s.items.c.score.desc(),
            s.items.c.created_at,
            s.items.c.id,
        )
        .limit(limit)
        .offset(offset)
    )


def count_query(f: QueueFilter) -> Select:
    return _where(select(func.count()).select_from(s.items), f)


def depth_query() -> Select:
    """(priority_rank, count) of unreviewed items."""
    return (
        select(s.items.c.priority_rank, func.count())
        .where(s.items.c.status == "unreviewed", ~in_a_case())
        .group_by(s.items.c.priority_rank)
    )


def verdict_columns() -> list:
    """The latest verdict's columns, prefixed so they do not clash with the item's."""
    v = s.verdicts.c
    return [
        v.verdict.label("v_verdict"),
        v.inspector.label("v_inspector"),
        v.note.label("v_note"),
        v.created_at.label("v_created_at"),
        v.recorded_by.label("v_recorded_by"),
    ]
