"""Per-day counts for GET /v1/trends: items scored, items at priority high, verdicts
counterfeit; overall, per source and per category (of the listing a photo belongs to).

Days are UTC calendar days, grouped in SQL (an index on items.created_at bounds the scan).
`high` counts the items scored that day whose priority is high now (raised ones included);
`counterfeit` counts the counterfeit verdicts given that day (an item judged twice counts
twice: each is an inspector's decision).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, distinct, func, literal, select

from counterscan.contract import HIGH
from counterscan.serve.storage import schema as s

MAX_DAYS = 366
COUNTS = ("scored", "high", "counterfeit")


def _day(conn: Connection, column: Any) -> ColumnElement[str]:
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)  # SQLite keeps naive UTC text, "YYYY-MM-DD HH:..."


def trends(conn: Connection, days: int, now: datetime | None = None) -> dict[str, Any]:
    """Counts for the `days` UTC days up to today (`now`: injected in tests)."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    labels = [(first + timedelta(days=n)).isoformat() for n in range(days)]
    i, v, li, lt = s.items.c, s.verdicts.c, s.listing_items.c, s.listings.c
    source = func.coalesce(i.source, "")
    counts: dict[tuple[str, str], dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    )

    def add(rows: Any, group: str) -> None:
        for day, key, scored, high in rows:
            counts[(group, key)][day]["scored"] += int(scored)
            counts[(group, key)][day]["high"] += int(high)

    high = func.sum(case((i.priority == HIGH, 1), else_=0))
    item_day = _day(conn, i.created_at)
    for group, keycol in (("overall", literal("")), ("source", source)):
        q = (
            select(item_day, keycol, func.count(), high)
            .where(i.created_at >= start)
            .group_by(item_day, keycol)
        )
        add(conn.execute(q), group)
    # Per category: each photo once per category, whatever the number of its listings there.
    per_cat = (
        select(i.id, i.created_at, i.priority, lt.category)
        .select_from(s.items.join(s.listing_items, li.item_id == i.id))
        .join(s.listings, lt.id == li.listing_ref)
        .where(i.created_at >= start, lt.category.is_not(None))
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
    add(conn.execute(q), "category")

    verdict_day = _day(conn, v.created_at)
    base = (
        select(verdict_day, source, func.count())
        .select_from(s.verdicts.join(s.items, i.id == v.item_id))
        .where(v.verdict == "counterfeit", v.created_at >= start)
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
        .where(v.verdict == "counterfeit", v.created_at >= start, lt.category.is_not(None))
        .distinct()
        .subquery()
    )
    vday = _day(conn, per_cat_v.c.created_at)
    for day, cat, n in conn.execute(
        select(vday, per_cat_v.c.category, func.count()).group_by(vday, per_cat_v.c.category)
    ):
        counts[("category", cat)][day]["counterfeit"] += int(n)

    def series(by_day: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
        return [{"day": d, **by_day.get(d, dict.fromkeys(COUNTS, 0))} for d in labels]

    return {
        "days": days,
        "overall": series(counts.get(("overall", ""), {})),
        "by_source": {k: series(c) for (g, k), c in sorted(counts.items()) if g == "source"},
        "by_category": {k: series(c) for (g, k), c in sorted(counts.items()) if g == "category"},
    }
