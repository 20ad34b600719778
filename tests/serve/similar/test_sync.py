"""Processes follow verdicts given elsewhere (similar/sync.py), in process, on SQLite and
PostgreSQL: two stores on one database stand for two processes. The real-process tests (serve
--workers 2, two servers on PostgreSQL) are tests/reliability/test_rel_agree.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert, update

from counterscan.images import decode_image
from counterscan.serve.similar.evaluate import make_copy
from counterscan.serve.similar.fingerprint import fingerprint
from counterscan.serve.similar.service import SimilarCases, photo_of
from counterscan.serve.similar.sync import VerdictFollower
from counterscan.serve.storage import ItemRecord, Store
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.db import verdicts_in_commit_order
from tests.helpers.photos import detailed_photo


@pytest.fixture
def other(db_url: str, data_dir: Path) -> Iterator[Store]:
    """A second store on the same database and data folder: another process."""
    with Store(db_url, data_dir) as store:
        yield store


@pytest.fixture
def photo_item(save_item: Callable[..., ItemRecord]) -> Callable[..., ItemRecord]:
    def save(seed: int, data: bytes) -> ItemRecord:
        fp = fingerprint(decode_image(data).rgb).to_bytes()
        return save_item(seed, image_bytes=data, fingerprint=fp, embedding=None)

    return save


def _kinds(cases: SimilarCases, item: ItemRecord) -> list[tuple[str, str]]:
    return [(m.item_id, m.verdict) for m in cases.match(photo_of(item, None))]


def test_a_verdict_given_elsewhere_is_followed_and_so_is_its_change(
    store: Store, other: Store, photo_item: Callable[..., ItemRecord]
) -> None:
    original = photo_item(1, detailed_photo(11))
    copy = photo_item(2, make_copy(detailed_photo(11), "crop_10_centre", np.random.default_rng(0)))
    here = VerdictFollower(SimilarCases(), other, interval_s=1.0)
    assert here.load() == 0

    store.add_verdict(original.id, "counterfeit", "ana")  # through the other process
    assert _kinds(here.cases, copy) == []  # not yet followed
    assert here.poll() == 1
    assert _kinds(here.cases, copy) == [(original.id, "counterfeit")]
    assert here.poll() == 0  # nothing new: one index lookup, nothing read

    store.add_verdict(original.id, "genuine", "ben", "second look: it is genuine")
    here.poll()
    assert _kinds(here.cases, copy) == [(original.id, "genuine")]
    store.add_verdict(original.id, "unsure", "ben")
    here.poll()
    assert _kinds(here.cases, copy) == [] and len(here.cases) == 0


def test_a_verdict_still_being_committed_is_not_skipped(
    store: Store, other: Store, save_item: Callable[..., ItemRecord]
) -> None:
    """Verdict ids must grow in commit order: a follower that saw id 2 committed while id 1
    was still open would never apply id 1 (PostgreSQL hands out ids before commit)."""
    first, second = save_item(1), save_item(2)
    here = VerdictFollower(SimilarCases(), other, interval_s=1.0)
    here.load()
    late = threading.Thread(target=store.add_verdict, args=(second.id, "counterfeit", "ben"))
    with store.write() as conn:  # the first verdict's transaction, held open
        verdicts_in_commit_order(conn)
        vid = conn.execute(
            insert(s.verdicts).values(
                item_id=first.id,
                verdict="counterfeit",
                inspector="ana",
                note="",
                created_at=datetime.now(UTC),
            )
        ).inserted_primary_key[0]
        conn.execute(
            update(s.items)
            .where(s.items.c.id == first.id)
            .values(status="reviewed", verdict_id=vid)
        )
        late.start()
        time.sleep(0.5)  # the second verdict would commit now without the ordering
        here.poll()
    late.join(timeout=30)
    here.poll()
    assert first.id in here.cases.sets["counterfeit"]
    assert second.id in here.cases.sets["counterfeit"]


def test_the_late_scan_raises_copies_stored_after_the_first_one(
    store: Store, photo_item: Callable[..., ItemRecord]
) -> None:
    """A copy scored by a process that had not followed the verdict yet is raised by the
    receiving process's second scan."""
    original = photo_item(1, detailed_photo(12))
    here = VerdictFollower(SimilarCases(), store, interval_s=0.05)
    here.load()
    item = store.add_verdict(original.id, "counterfeit", "ana")
    reference = here.cases.on_verdict(store, item)
    assert reference is not None
    assert here.cases.reflag(store, reference) == []  # nothing to raise yet
    here.later(reference, item.verdict.created_at if item.verdict else datetime.now(UTC))
    copy = photo_item(2, make_copy(detailed_photo(12), "jpeg_q40", np.random.default_rng(0)))
    assert here.run_due() == []  # not due yet: other processes may still be catching up
    time.sleep(0.15)
    assert here.run_due() == [copy.id]
    raised: Any = store.get_item(copy.id)
    assert raised.priority == "high" and original.id in raised.priority_reason
    assert here.run_due() == []  # once
