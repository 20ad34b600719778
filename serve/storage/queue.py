"""The inspection queue as one parameterised query: filters, then the fixed ranking.

Ranking: priority (high, medium, low), then score (highest first), then age (oldest first),
then id, so that pages never overlap or skip rows when scores and times tie. Pages are found by
keyset (`after`: the last item's ranking key, cursor.py) or, for old clients, by offset; the
total is counted by counting.py (exact up to a cap, estimated and labelled beyond it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Exists,
    Select,
    and_,
    cast,
    exists,
    false,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)

from counterscan.errors import CounterscanError
from counterscan.serve.storage import cursor
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


@dataclass(frozen=True)
class Position:
    """Where a queue page ends: the ranking's key of its last item (see cursor.py)."""

    rank: int
    score: float
    created_at: datetime
    id: str

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Position:
        return cls(row["priority_rank"], float(row["score"]), row["created_at"], row["id"])

    def token(self) -> str:
        return cursor.encode(self.rank, self.score, self.created_at, self.id)

    @classmethod
    def parse(cls, token: str) -> Position:
        rank, score, created_at, item_id = cursor.decode(token, (int, float, datetime, str))
        if rank not in range(len(s.PRIORITIES)):
            raise CounterscanError(
                "after is not a cursor from this list (use the next_cursor it gave)"
            )
        return cls(rank, score, created_at, item_id)


def in_a_case() -> Exists:
    """The item is in a case (storage/cases.py): the case is where it is dealt with now, so it
    leaves the unreviewed queue (and comes back if it is removed from the case)."""
    return exists().where(s.case_items.c.item_id == s.items.c.id)


def _filters(query: Select, f: QueueFilter) -> Select:
    if f.source is not None:
        query = query.where(s.items.c.source == f.source)
    if f.since is not None:
        query = query.where(s.items.c.created_at >= f.since)
    if f.until is not None:
        query = query.where(s.items.c.created_at < f.until)
    return query


def _where(query: Select, f: QueueFilter, *, cases: bool = True) -> Select:
    if f.status != "all":
        query = query.where(s.items.c.status == f.status)
    if f.status == "unreviewed" and cases:
        query = query.where(~in_a_case())
    if f.priorities:
        query = query.where(s.items.c.priority_rank.in_([s.PRIORITY_RANK[p] for p in f.priorities]))
    return _filters(query, f)


def item_query() -> Select:
    """Items with their latest verdict (outer join: unreviewed items have none)."""
    joined = s.items.outerjoin(s.verdicts, s.verdicts.c.id == s.items.c.verdict_id)
    return select(s.items, *verdict_columns()).select_from(joined)


# What a list shows: everything but the similar-case vectors (5 kB a row, read only by matching).
LIST_COLUMNS = [c for c in s.items.c if c.name not in ("embedding", "fingerprint")]


def _ranking(t: Any) -> list[Any]:
    return [t.c.priority_rank, t.c.score.desc(), t.c.created_at, t.c.id]


def _band(
    f: QueueFilter, status: str, rank: int, after: Position | None, n: int, columns: list
) -> Select:
    """The first `n` matching items of one (status, priority) after `after`: an equality
    prefix of ix_items_queue, read in index order, so it stops after n rows."""
    t = s.items.c
    if status == "unreviewed":  # no verdict: any verdict makes an item reviewed
        query = select(*columns, *no_verdict_columns())
    else:  # the join per row, inside the band (the database then looks up 51 verdicts by id)
        joined = s.items.outerjoin(s.verdicts, s.verdicts.c.id == t.verdict_id)
        query = select(*columns, *verdict_columns()).select_from(joined)
    query = query.where(t.status == status, t.priority_rank == rank)
    if f.status == "unreviewed":
        query = query.where(~in_a_case())
    query = _filters(query, f)
    if after is not None and rank == after.rank:
        # score DESC, then (created_at, id) ASC; `score <= ...` is the bound the index seeks to.
        later = tuple_(t.created_at, t.id) > tuple_(
            literal(after.created_at, t.created_at.type), literal(after.id, t.id.type)
        )
        query = query.where(
            t.score <= after.score,
            or_(t.score < after.score, and_(t.score == after.score, later)),
        )
    return query.order_by(*_ranking(s.items)).limit(n)


def page_query(
    f: QueueFilter,
    limit: int,
    offset: int = 0,
    after: Position | None = None,
    columns: list | None = None,
) -> Select:
    """`limit` matching items after `offset` rows (counted after `after`, if given), ranked,
    with their latest verdict. One index range per (status, priority) queried, each stopping
    after offset + limit rows and joined to its verdicts there, merged: no sort or scan of the
    whole queue, whatever filters (a single `IN` over priorities or statuses would make the
    database sort every match; a join after the merge made PostgreSQL hash every verdict)."""
    statuses = s.STATUSES if f.status == "all" else (f.status,)
    ranks = sorted(s.PRIORITY_RANK[p] for p in f.priorities) or range(len(s.PRIORITIES))
    bands = [
        select(_band(f, status, rank, after, offset + limit, columns or LIST_COLUMNS).subquery())
        for status in statuses
        for rank in ranks
        if after is None or rank >= after.rank
    ]
    if not bands:
        bands = [select(*(columns or LIST_COLUMNS), *no_verdict_columns()).where(false())]
    page = (bands[0] if len(bands) == 1 else union_all(*bands)).subquery("page")
    return select(page).order_by(*_ranking(page)).limit(limit).offset(offset)


def count_rows(f: QueueFilter, *, cases: bool = True) -> Select:
    """The rows to count for a page's total (counting.count caps and estimates it).
    `cases=False`: without leaving out items in a case, for the estimate (the planner cannot
    know how many items are in cases; they are few, so the estimate is high by at most that)."""
    return _where(select(s.items.c.id), f, cases=cases)


def no_verdict_columns() -> list:
    """verdict_columns() of an item without a verdict: typed NULLs."""
    return [cast(null(), c.type).label(c.name) for c in verdict_columns()]


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
