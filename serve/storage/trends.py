"""Per-day counts for GET /v1/trends: items scored, items at priority high, verdicts
counterfeit; overall, per source and per category (of the listing a photo belongs to).

Days are UTC calendar days. `high` counts the items scored that day whose priority is high now
(raised ones included); `counterfeit` counts the counterfeit verdicts given that day (an item
judged twice counts twice: each is an inspector's decision).

Counted from the rows by grouped queries bounded by the index on items.created_at (`_count`).
Days before today are kept once counted (`trend_days`, filled by `roll_up` on the first read),
so a 90-day window over a million photos reads 90 small rows per group and counts only today.
A write that changes a past day's counts drops that day (`forget_items_days`: a listing
recorded with older photos, a priority raised, a verdict); it is counted again on next read.
Edits made with plain SQL outside the server are not seen until that day is dropped
(`DELETE FROM trend_days` makes every day counted again).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    any_,
    case,
    cast,
    delete,
    distinct,
    func,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from counterscan.contract import HIGH
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.listings import _insert_ignore

MAX_DAYS = 366
COUNTS = ("scored", "high", "counterfeit")
Counts = dict[tuple[str, str], dict[str, dict[str, int]]]  # (group, key) -> day -> counts


def _day(conn: Connection, column: Any) -> ColumnElement[str]:
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)  # SQLite keeps naive UTC text, "YYYY-MM-DD HH:..."


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _empty() -> Counts:
    return defaultdict(lambda: defaultdict(lambda: dict.fromkeys(COUNTS, 0)))


def _photos_of(conn: Connection, start: datetime, end: datetime) -> ColumnElement[bool]:
    """Which listing_items rows to join for the photos scored in [start, end). For a day or two
    on PostgreSQL: `item_id = ANY(array of their ids)`, looked up by index; joined plainly,
    the planner reads all of listing_items into a hash (110-155 ms at a million photos, against
    25-50 ms; bench/README.md). Longer ranges (the first roll-up) are better hashed."""
    i, li = s.items.c, s.listing_items.c
    if conn.dialect.name != "postgresql" or end - start > timedelta(days=2):
        return true()
    ids = select(func.array_agg(i.id)).where(i.created_at >= start, i.created_at < end)
    return li.item_id == any_(cast(ids.scalar_subquery(), ARRAY(String)))  # an array, not rows


def _count(conn: Connection, start: datetime, end: datetime) -> Counts:
    """The counts of [start, end) from the rows."""
    i, v, li, lt = s.items.c, s.verdicts.c, s.listing_items.c, s.listings.c
    source = func.coalesce(i.source, "")
    counts = _empty()
    high = func.sum(case((i.priority == HIGH, 1), else_=0))
    item_day = _day(conn, i.created_at)
    in_range = (i.created_at >= start, i.created_at < end)
    q = select(item_day, source, func.count(), high).where(*in_range).group_by(item_day, source)
    for day, key, scored, n_high in conn.execute(q):
        for group in (("overall", ""), ("source", key)):
            counts[group][day]["scored"] += int(scored)
            counts[group][day]["high"] += int(n_high)
    # Per category: each photo once per category, whatever the number of its listings there.
    per_cat = (
        select(i.id, i.created_at, i.priority, lt.category)
        .select_from(s.items.join(s.listing_items, li.item_id == i.id))
        .join(s.listings, lt.id == li.listing_ref)
        .where(*in_range, lt.category.is_not(None), _photos_of(conn, start, end))
        .distinct()
        .subquery()
    )
    cat_day = _day(conn, per_cat.c.created_at)
    q = select(
        cat_day,
        per_cat.c.category,
        func.count(distinct(per_cat.c.id)),
        func.sum(case((per_cat.c.priority == HIGH, 1), else_=0)),
    ).group_by(cat_day, per_cat.c.category)
    for day, cat, scored, n_high in conn.execute(q):
        counts[("category", cat)][day]["scored"] += int(scored)
        counts[("category", cat)][day]["high"] += int(n_high)

    verdict_day = _day(conn, v.created_at)
    judged = (v.verdict == "counterfeit", v.created_at >= start, v.created_at < end)
    base = (
        select(verdict_day, source, func.count())
        .select_from(s.verdicts.join(s.items, i.id == v.item_id))
        .where(*judged)
    )
    for day, src, n in conn.execute(base.group_by(verdict_day, source)):
        counts[("overall", "")][day]["counterfeit"] += int(n)
        counts[("source", src)][day]["counterfeit"] += int(n)
    per_cat_v = (
        select(v.id, v.created_at, lt.category)
        .select_from(
            s.verdicts.join(s.listing_items, li.item_id == v.item_id).join(
                s.listings, lt.id == li.listing_ref
            )
        )
        .where(*judged, lt.category.is_not(None))
        .distinct()
        .subquery()
    )
    vday = _day(conn, per_cat_v.c.created_at)
    for day, cat, n in conn.execute(
        select(vday, per_cat_v.c.category, func.count()).group_by(vday, per_cat_v.c.category)
    ):
        counts[("category", cat)][day]["counterfeit"] += int(n)
    return counts


def _stored(conn: Connection, first: str, before: str) -> tuple[Counts, set[str]]:
    """The kept counts of the days in [first, before) and which days are kept."""
    t = s.trend_days.c
    counts, days = _empty(), set()
    q = select(t.day, t.grp, t.key, t.scored, t.high, t.counterfeit).where(
        t.day >= first, t.day < before
    )
    for day, grp, key, scored, high, bad in conn.execute(q):
        counts[(grp, key)][day] = {"scored": scored, "high": high, "counterfeit": bad}
        if grp == "overall":
            days.add(day)
    return counts, days


def _window(days: int, now: datetime | None) -> tuple[date, date]:
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return today - timedelta(days=days - 1), today


def all_kept(conn: Connection, days: int, now: datetime | None = None) -> bool:
    """Whether every day of the window before today is kept (one small index range count)."""
    first, today = _window(days, now)
    t = s.trend_days.c
    q = select(func.count()).where(
        t.grp == "overall", t.day >= first.isoformat(), t.day < today.isoformat()
    )
    return int(conn.execute(q).scalar_one()) == (today - first).days


def roll_up(conn: Connection, days: int, now: datetime | None = None) -> int:
    """Count and keep the days of the window before today that are not kept yet (in a write
    transaction). Returns how many days were added."""
    first, today = _window(days, now)
    _, kept = _stored(conn, first.isoformat(), today.isoformat())
    wanted = [first + timedelta(days=n) for n in range((today - first).days)]
    missing = [d for d in wanted if d.isoformat() not in kept]
    if not missing:
        return 0
    counts = _count(conn, _midnight(missing[0]), _midnight(today))
    zero = dict.fromkeys(COUNTS, 0)
    for d in missing:
        day = d.isoformat()
        rows = {("overall", ""): counts[("overall", "")].get(day, zero)}
        rows |= {g: by_day[day] for g, by_day in counts.items() if day in by_day}
        for (grp, key), n in rows.items():
            _insert_ignore(conn, s.trend_days, {"day": day, "grp": grp, "key": key, **n})
    return len(missing)


def forget_items_days(conn: Connection, item_ids: list[str], now: datetime | None = None) -> None:
    """Drop the kept counts of the days these items were scored on (their priority, or the
    categories of their listings, may have changed)."""
    if not item_ids:
        return
    i, t = s.items.c, s.trend_days.c
    moments = conn.execute(select(i.created_at).where(i.id.in_(item_ids))).scalars()
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    days = {m.astimezone(UTC).date() for m in moments} - {today}
    if days:
        conn.execute(delete(s.trend_days).where(t.day.in_(sorted(d.isoformat() for d in days))))


def trends(conn: Connection, days: int, now: datetime | None = None) -> dict[str, Any]:
    """Counts for the `days` UTC days up to today (`now`: injected in tests): kept days from
    `trend_days`, the others (today at least) counted from the rows."""
    first, today = _window(days, now)
    labels = [(first + timedelta(days=n)).isoformat() for n in range(days)]
    counts, kept = _stored(conn, labels[0], today.isoformat())
    live_from = next((d for d in labels if d not in kept), today.isoformat())
    live = _count(
        conn, _midnight(date.fromisoformat(live_from)), _midnight(today + timedelta(days=1))
    )
    for group, by_day in live.items():
        for day, n in by_day.items():
            if day not in kept:
                counts[group][day] = n

    def series(by_day: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
        return [{"day": d, **by_day.get(d, dict.fromkeys(COUNTS, 0))} for d in labels]

    def shown(group: str) -> dict[str, Any]:
        found = sorted((k, c) for (g, k), c in counts.items() if g == group)
        return {k: series(c) for k, c in found if any(d in c for d in labels)}

    return {
        "days": days,
        "overall": series(counts.get(("overall", ""), {})),
        "by_source": shown("source"),
        "by_category": shown("category"),
    }
