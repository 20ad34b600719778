"""The office's periodic report: what was scored, reviewed, inspected and fined in a period.

Counting rules, for the period [from, to):
- items_scored: items whose created_at falls in the period;
- items_reviewed: items given at least one verdict in the period (by anyone);
- cases_opened: cases created in the period; cases_closed, violations, no_violations,
  violations_by_kind, fines, goods value and quantity seized: cases closed in the period;
- per source and per category, a case counts under its first item (the photo it was opened
  from), so every breakdown adds up to the totals; a case without items is under "(none)";
- per inspector: verdicts by who gave them, cases by the inspector they are assigned to;
- category: the category the crawler sent with the listing a photo belongs to (its first
  listing when several), for a case that of its first item; "" when there is none (no listing,
  or a listing without a category): the console shows it as "no category".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import distinct, func, or_, select

from counterscan.errors import CounterscanError
from counterscan.serve.storage import Store
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.records import iso_utc

NONE = "(none)"
NO_CATEGORY = ""  # the console shows it as "no category"
ROW_FIELDS = (
    "items_scored", "items_reviewed", "cases_opened", "cases_closed", "violations",
    "fines_vnd", "goods_value_vnd",
)  # fmt: skip
CATEGORY_NOTE = (
    "category = the category of the listing a photo belongs to (for a case: its first photo); "
    '"" = no category'
)


def parse_moment(value: str | date | datetime, name: str) -> datetime:
    """A date (midnight UTC) or ISO time (no zone = UTC) -> aware UTC datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise CounterscanError(f"{name} must be a date or ISO time, not {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise CounterscanError(f"'to' ({iso_utc(end)}) must be after 'from' ({iso_utc(start)})")


@dataclass
class _Row:
    values: dict[str, int]

    @classmethod
    def empty(cls) -> _Row:
        return cls(dict.fromkeys(ROW_FIELDS, 0))


def summary(store: Store, start: datetime, end: datetime) -> dict[str, Any]:
    """The report as a dict (the API's ReportSummary shape)."""
    check_period(start, end)
    per: dict[str, dict[str, _Row]] = {
        k: defaultdict(_Row.empty) for k in ("source", "category", "inspector")
    }
    i, v = s.items.c, s.verdicts.c
    in_period = i.created_at >= start, i.created_at < end
    verdict_in_period = v.created_at >= start, v.created_at < end
    with store._read() as conn:
        for dim, col, empty in (
            ("source", i.source, NONE),
            ("category", _category_of(i.id), NO_CATEGORY),
        ):
            scored = select(col.label("k")).where(*in_period).subquery()
            query = select(scored.c.k, func.count()).group_by(scored.c.k)
            for key, n in conn.execute(query):
                per[dim][key or empty].values["items_scored"] += int(n)
            reviewed = (
                select(col.label("k"), v.item_id)
                .select_from(s.verdicts.join(s.items, s.items.c.id == v.item_id))
                .where(*verdict_in_period)
                .subquery()
            )
            query = select(reviewed.c.k, func.count(distinct(reviewed.c.item_id)))
            for key, n in conn.execute(query.group_by(reviewed.c.k)):
                per[dim][key or empty].values["items_reviewed"] += int(n)
        query = select(v.inspector, func.count(distinct(v.item_id))).where(*verdict_in_period)
        for key, n in conn.execute(query.group_by(v.inspector)):
            per["inspector"][key or NONE].values["items_reviewed"] += int(n)
        items_scored = int(conn.execute(select(func.count()).where(*in_period)).scalar_one())
        query = select(func.count(distinct(v.item_id))).where(*verdict_in_period)
        items_reviewed = int(conn.execute(query).scalar_one())
        cases = conn.execute(_case_query(start, end)).mappings().all()

    totals = {
        "cases_opened": 0,
        "cases_closed": 0,
        "violations": 0,
        "no_violations": 0,
        "fines_vnd": 0,
        "goods_value_vnd": 0,
        "quantity_seized": 0,
    }
    by_kind = dict.fromkeys(s.VIOLATION_KINDS, 0)
    for case in cases:
        keys = {
            "source": case["first_source"] or NONE,
            "category": case["first_category"] or NO_CATEGORY,
            "inspector": case["inspector"] or NONE,
        }
        counts: dict[str, int] = {}
        if start <= case["created_at"] < end:
            counts["cases_opened"] = 1
        closed_at = case["closed_at"]
        if closed_at is not None and start <= closed_at < end:
            counts["cases_closed"] = 1
            if case["outcome"] == "violation":
                counts["violations"] = 1
                by_kind[case["violation_kind"] or "other"] += 1
                counts["fines_vnd"] = int(case["fine_vnd"] or 0)
                counts["goods_value_vnd"] = int(case["goods_value_vnd"] or 0)
            else:
                totals["no_violations"] += 1
            totals["quantity_seized"] += int(case["quantity_seized"] or 0)
        for name, n in counts.items():
            totals[name] += n
            for dim, key in keys.items():
                per[dim][key].values[name] += n
    return {
        "from": iso_utc(start),
        "to": iso_utc(end),
        "items_scored": items_scored,
        "items_reviewed": items_reviewed,
        **totals,
        "violations_by_kind": by_kind,
        "per_source": _rows(per["source"]),
        "per_category": _rows(per["category"]),
        "per_inspector": _rows(per["inspector"]),
        "category_note": CATEGORY_NOTE,
    }


def _case_query(start: datetime, end: datetime) -> Any:
    """Cases opened or closed in the period, with their first item's source and category."""
    c, ci = s.cases.c, s.case_items.c

    def first(column: Any) -> Any:
        return (
            select(column)
            .select_from(s.case_items.join(s.items, s.items.c.id == ci.item_id))
            .where(ci.case_id == c.id)
            .order_by(ci.added_at, ci.item_id)
            .limit(1)
            .scalar_subquery()
        )

    return (
        select(
            s.cases,
            first(s.items.c.source).label("first_source"),
            first(_category_of(s.items.c.id)).label("first_category"),
        )
        .where(
            or_(
                (c.created_at >= start) & (c.created_at < end),
                (c.closed_at >= start) & (c.closed_at < end),
            )
        )
        .order_by(c.id)
    )


def _category_of(item_id: Any) -> Any:
    """The category of the item's first listing (listing_items -> listings); NULL without."""
    li, lst = s.listing_items.c, s.listings.c
    return (
        select(lst.category)
        .select_from(s.listing_items.join(s.listings, lst.id == li.listing_ref))
        .where(li.item_id == item_id)
        .order_by(li.listing_ref)
        .limit(1)
        .scalar_subquery()
    )


def _rows(rows: dict[str, _Row]) -> list[dict[str, Any]]:
    return [{"key": key, **rows[key].values} for key in sorted(rows)]
