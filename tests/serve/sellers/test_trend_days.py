"""Kept trend counts (storage/trends.py `trend_days`) equal a count from the rows, also after
writes that change past days: a listing recorded with older photos (their category) and a
priority raised on an older photo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from counterscan.serve.sellers import service
from counterscan.serve.settings import Settings
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.listings import ListingInput
from counterscan.serve.storage.trends import all_kept, roll_up, trends


def _aged(store: Any, save_item: Any, seed: int, days: int, **fields: Any) -> str:
    item = save_item(seed=seed, **fields).id
    with store.write() as conn:
        when = datetime.now(UTC) - timedelta(days=days)
        conn.execute(update(s.items).where(s.items.c.id == item).values(created_at=when))
    return item


def _kept_and_fresh(store: Any) -> tuple[dict, dict]:
    with store.write() as conn:
        assert not all_kept(conn, 10)  # each step below changed a past day
        roll_up(conn, 10)
        assert all_kept(conn, 10)
    with store.read() as conn:
        kept = trends(conn, 10)
        assert conn.execute(select(func.count()).select_from(s.trend_days)).scalar_one() > 0
    with store.write() as conn:  # the same window counted from the rows alone
        saved = conn.execute(select(s.trend_days)).all()
        conn.execute(delete(s.trend_days))
    with store.read() as conn:
        fresh = trends(conn, 10)
    with store.write() as conn:
        for row in saved:
            conn.execute(s.trend_days.insert().values(**row._mapping))
    return kept, fresh


def test_kept_days_follow_writes(store, save_item) -> None:
    settings = Settings(model=None)
    old = [_aged(store, save_item, n, days=1 + n % 4, source="shopee") for n in range(6)]
    today = save_item(seed=50, source="tiki").id
    service.record(
        store, settings, [(ListingInput("shopee", "A", seller_id="s1", category="giày"), old[:3])]
    )
    kept, fresh = _kept_and_fresh(store)
    assert kept == fresh
    assert kept["by_category"]["giày"] != [] and sum(d["scored"] for d in kept["overall"]) == 7
    # A new listing shows older photos: their days now count them in another category.
    service.record(
        store, settings, [(ListingInput("shopee", "B", seller_id="s2", category="chè"), old[3:])]
    )
    kept, fresh = _kept_and_fresh(store)
    assert kept == fresh
    assert sum(d["scored"] for d in kept["by_category"]["chè"]) == 3
    # An older photo raised to high.
    assert store.raise_priority(old[4], "matches confirmed counterfeit x (near_duplicate)")
    service.on_items_changed(store, [old[4], today])
    kept, fresh = _kept_and_fresh(store)
    assert kept == fresh
    assert sum(d["high"] for d in kept["by_category"]["chè"]) == 1
