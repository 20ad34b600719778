"""The inspection queue: ranking, filters, pagination, counts."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from counterscan.errors import CounterscanError
from counterscan.serve.storage import Store


@pytest.fixture
def mixed(store: Store, save_item) -> dict[str, str]:
    """Seven items saved in this order; names say priority, score and source."""
    spec = [
        ("low_old", "low", 0.10, "shop-a"),
        ("high_mid", "high", 0.90, "shop-a"),
        ("medium", "medium", 0.50, "shop-b"),
        ("high_top", "high", 0.97, "shop-b"),
        ("high_mid_young", "high", 0.90, "shop-a"),  # same score as high_mid, saved later
        ("low_young", "low", 0.20, "shop-b"),
        ("medium_top", "medium", 0.60, "shop-a"),
    ]
    ids = {}
    for seed, (name, priority, score, source) in enumerate(spec):
        ids[name] = save_item(seed, priority=priority, score=score, source=source).id
        time.sleep(0.002)  # distinct created_at even on coarse clocks
    return ids


def names(ids: dict[str, str], items) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[i.id] for i in items]


def test_rank_is_priority_then_score_then_oldest(store: Store, mixed) -> None:
    items, total = store.queue()
    assert total == 7
    assert names(mixed, items) == [
        "high_top", "high_mid", "high_mid_young", "medium_top", "medium", "low_young", "low_old",
    ]  # fmt: skip


def test_pages_cover_the_queue_without_overlap(store: Store, mixed) -> None:
    full, _ = store.queue()
    pages = [store.queue(limit=3, offset=o) for o in (0, 3, 6, 9)]
    assert [len(p[0]) for p in pages] == [3, 3, 1, 0]
    assert all(p[1] == 7 for p in pages)  # total ignores the page
    assert [i.id for p in pages for i in p[0]] == [i.id for i in full]


def test_priority_filter(store: Store, mixed) -> None:
    items, total = store.queue(priorities=["high"])
    assert total == 3 and {i.priority for i in items} == {"high"}
    items, total = store.queue(priorities=["low", "MEDIUM"])
    assert names(mixed, items) == ["medium_top", "medium", "low_young", "low_old"]


def test_source_filter(store: Store, mixed) -> None:
    items, total = store.queue(source="shop-b")
    assert total == 3
    assert names(mixed, items) == ["high_top", "medium", "low_young"]
    assert store.queue(source="nobody")[1] == 0


def test_time_range_filter(store: Store, mixed) -> None:
    everything, _ = store.queue(status="all", limit=500)
    by_age = sorted(everything, key=lambda i: i.created_at)
    cut = by_age[3].created_at
    newer, n_newer = store.queue(since=cut)
    older, n_older = store.queue(until=cut)
    assert {i.id for i in older} == {i.id for i in by_age[:3]}
    assert n_newer == 4 and n_older == 3
    assert {i.id for i in newer} == {i.id for i in by_age[3:]}
    assert store.queue(since=cut, until=cut + timedelta(microseconds=1))[1] == 1
    future = datetime.now(UTC) + timedelta(days=1)
    assert store.queue(since=future)[1] == 0


def test_status_filter_follows_verdicts(store: Store, mixed) -> None:
    store.add_verdict(mixed["high_top"], "counterfeit", "ana")
    store.add_verdict(mixed["low_old"], "unsure", "ana")  # any verdict leaves the queue
    unreviewed, n = store.queue()
    assert n == 5 and mixed["high_top"] not in {i.id for i in unreviewed}
    reviewed, n = store.queue(status="reviewed")
    assert names(mixed, reviewed) == ["high_top", "low_old"]
    assert reviewed[0].verdict is not None and reviewed[0].verdict.verdict == "counterfeit"
    assert store.queue(status="all")[1] == 7
    assert store.queue_depth() == {"high": 2, "medium": 2, "low": 1}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "done"}, "unknown status"),
        ({"priorities": ["urgent"]}, "unknown priority"),
        ({"limit": 0}, "limit must be between 1 and 500"),
        ({"limit": 501}, "limit must be between 1 and 500"),
        ({"offset": -1}, "offset must be 0 or more"),
        ({"since": datetime(2025, 1, 1)}, "needs a time zone"),
    ],
)
def test_bad_queue_arguments_are_one_line_errors(store: Store, kwargs, message) -> None:
    with pytest.raises(CounterscanError, match=message):
        store.queue(**kwargs)
