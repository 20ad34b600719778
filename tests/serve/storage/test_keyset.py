"""Keyset pages of the queue and the case list, and totals that are estimated (and say so)
beyond the exact cap; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import insert

from counterscan.errors import CounterscanError
from counterscan.serve.storage import Store
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.rows import new_item_row

_serial = count()
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def add_items(store: Store, specs: list[tuple[str, float, datetime]]) -> list[str]:
    """Items straight into the table (no evidence files: lists never read them)."""
    rows = []
    for priority, score, created_at in specs:
        n = next(_serial)
        rows.append(
            new_item_row(
                sha256=hashlib.sha256(str(n).encode()).hexdigest(),
                phash="0" * 16,
                score=score,
                priority=priority,
                model_version="m1",
                source="shop-a" if n % 2 else "shop-b",
                width=10,
                height=10,
                created_at=created_at,
            )
        )
    with store.write() as conn:
        conn.execute(insert(s.items), rows)
    return [r["id"] for r in rows]


def walk(store: Store, between=None, **filters) -> list[str]:
    """Every page by cursor; `between(page_number)` runs after each page."""
    seen: list[str] = []
    after = None
    for number in range(1000):
        page = store.queue_page(limit=4, after=after, **filters)
        seen += [i.id for i in page.items]
        if page.next_cursor is None:
            return seen
        after = page.next_cursor
        if between:
            between(number)
    raise AssertionError("the cursor never ended")


def test_keyset_pages_equal_the_ranked_queue_with_ties(store: Store) -> None:
    # Ties on score and on time: only the id tells these apart, in every priority.
    specs = [(p, sc, T0) for p in ("high", "medium", "low") for sc in (0.9, 0.5, 0.5)] * 3
    specs += [("low", 0.1, T0 + timedelta(seconds=i % 3)) for i in range(7)]
    add_items(store, specs)
    full, total = store.queue(limit=500)
    assert total == len(specs) == 34
    assert walk(store) == [i.id for i in full]
    # The same with filters that make several index ranges (two priorities) or one status.
    wanted = store.queue(priorities=["high", "low"], limit=500)[0]
    assert walk(store, priorities=["high", "low"]) == [i.id for i in wanted]
    assert walk(store, status="all", source="shop-a") == [
        i.id for i in store.queue(status="all", source="shop-a", limit=500)[0]
    ]


def test_no_duplicates_or_gaps_while_new_items_arrive(store: Store) -> None:
    before = add_items(store, [("medium", 0.3 + i / 100, T0) for i in range(20)])
    arrivals: list[str] = []

    def arrive(page_number: int) -> None:
        # A riskier item (ranked before the cursor) and a safer one (after it) per page.
        arrivals.extend(add_items(store, [("high", 0.99, T0), ("low", 0.01, T0)]))

    seen = walk(store, between=arrive)
    assert len(seen) == len(set(seen))  # no duplicates
    assert set(before) <= set(seen)  # no gaps: every item that was there is on a page
    assert [i for i in seen if i in before] == [
        i.id for i in store.queue(limit=500)[0] if i.id in before
    ]  # in rank order
    # Safer arrivals land after the cursor and are read; riskier ones rank above it.
    assert set(arrivals[1::2]) <= set(seen)
    # Offsets shift instead: the item at the page boundary comes twice.
    first = store.queue(limit=5)[0]
    add_items(store, [("high", 0.999, T0)])
    assert first[-1].id == store.queue(limit=5, offset=5)[0][0].id


def test_a_cursor_from_elsewhere_is_a_one_line_error(store: Store) -> None:
    for bad in (
        "x",
        "bm90IGpzb24",
        "WzEsMl0",
        "WzcsMC41LCIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwiYSJd",
    ):
        with pytest.raises(CounterscanError, match="not a cursor from this list"):
            store.queue_page(after=bad)


def test_totals_beyond_the_cap_are_estimated_and_labelled(db_url: str, data_dir) -> None:
    with Store(db_url, data_dir, exact_count_up_to=10).open() as store:
        add_items(store, [("low", 0.2, T0)] * 30)
        if store.backend == "postgresql":
            with store.engine.connect() as conn:  # the planner's statistics (autovacuum's)
                conn.exec_driver_sql("ANALYZE items")
                conn.commit()
        page = store.queue_page(limit=5)
        assert page.total_is_estimate and page.total > 10
        assert abs(page.total - 30) <= 15  # an estimate, not a guess
        small = store.queue_page(priorities=["high"])
        assert (small.total, small.total_is_estimate) == (0, False)  # exact below the cap
        assert store.queue_depth()["low"] == page.total
        assert store.cases.page().total_is_estimate is False


def test_case_list_keyset(store: Store) -> None:
    ids = add_items(store, [("low", 0.2, T0)] * 5)
    made = [store.cases.create(f"case {i}", [ids[i]], actor="ana").id for i in range(5)]
    first = store.cases.page(limit=2)
    assert [c.id for c in first.items] == made[::-1][:2] and first.next_cursor
    second = store.cases.page(limit=2, after=first.next_cursor)
    third = store.cases.page(limit=2, after=second.next_cursor)
    assert [c.id for c in second.items + third.items] == made[::-1][2:]
    assert third.next_cursor is None and third.total == 5
    with pytest.raises(CounterscanError, match="not a cursor"):
        store.cases.page(after="bm9wZQ")
