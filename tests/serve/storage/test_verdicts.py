"""Verdicts: history kept, the latest is current, and nothing is lost across a restart."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from counterscan.errors import CounterscanError
from counterscan.serve.storage import ItemNotFound, Store


def test_verdict_history_is_kept_and_latest_is_current(store: Store, save_item) -> None:
    item = save_item(1)
    store.add_verdict(item.id, "unsure", "ana", "blurry photo")
    after = store.add_verdict(item.id, "counterfeit", "bo", "logo misprinted")
    assert after.status == "reviewed"
    assert after.verdict is not None and after.verdict.verdict == "counterfeit"
    assert [(v.verdict, v.inspector, v.note) for v in after.verdicts or []] == [
        ("unsure", "ana", "blurry photo"),
        ("counterfeit", "bo", "logo misprinted"),
    ]
    changed = store.add_verdict(item.id, "genuine", "ana")
    assert changed.verdict is not None and changed.verdict.verdict == "genuine"
    assert len(changed.verdicts or []) == 3
    assert changed.verdicts[0].created_at <= changed.verdicts[-1].created_at
    api = changed.to_api()
    assert api["verdict"]["verdict"] == "genuine"
    assert [v["verdict"] for v in api["verdicts"]] == ["unsure", "counterfeit", "genuine"]
    assert api["verdicts"][0]["created_at"].endswith("Z")


def test_verdicts_survive_a_restart(db_url: str, data_dir: Path, make_jpeg) -> None:
    from counterscan.hashing import sha256_bytes

    data = make_jpeg(5)
    store = Store(db_url, data_dir).open()
    item = store.save_scored(
        image_bytes=data, sha256=sha256_bytes(data), phash="f" * 16, score=0.8,
        priority="high", model_version="m", listing_id="L5", source="s", url=None,
        width=96, height=64, embedding=None,
    )  # fmt: skip
    store.add_verdict(item.id, "counterfeit", "ana", "first look")
    store.add_verdict(item.id, "genuine", "bo", "receipt checked")
    store.close()

    reopened = Store(db_url, data_dir).open()
    try:
        again = reopened.get_item(item.id)
        assert again is not None
        assert again.verdict is not None and again.verdict.verdict == "genuine"
        assert [v.inspector for v in again.verdicts or []] == ["ana", "bo"]
        assert reopened.image_path(again).read_bytes() == data
        assert reopened.find_scored(item.sha256, "m") is not None
        assert reopened.queue()[1] == 0
    finally:
        reopened.close()


def test_concurrent_verdicts_are_all_kept(store: Store, save_item) -> None:
    item = save_item(2)
    errors: list[Exception] = []

    def give(i: int) -> None:
        try:
            store.add_verdict(item.id, ("counterfeit", "genuine")[i % 2], f"inspector{i}")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=give, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = store.get_item(item.id)
    assert final is not None and len(final.verdicts or []) == 8
    assert final.verdict == final.verdicts[-1]  # current = latest of the history


def test_unknown_item_and_bad_verdicts(store: Store, save_item) -> None:
    item = save_item(3)
    with pytest.raises(ItemNotFound):
        store.add_verdict("0" * 32, "genuine", "ana")
    with pytest.raises(ItemNotFound):
        store.add_verdict("../../etc", "genuine", "ana")
    with pytest.raises(CounterscanError, match="unknown verdict 'fake'"):
        store.add_verdict(item.id, "fake", "ana")
    with pytest.raises(CounterscanError, match="inspector must not be empty"):
        store.add_verdict(item.id, "genuine", "  ")
    with pytest.raises(CounterscanError, match="note is longer"):
        store.add_verdict(item.id, "genuine", "ana", "x" * 10_001)
    unchanged = store.get_item(item.id)
    assert unchanged is not None and unchanged.verdicts == [] and unchanged.status == "unreviewed"


def test_reviewed_items_for_export(store: Store, save_item) -> None:
    a, b, c, d = (save_item(i) for i in range(4))
    store.add_verdict(a.id, "counterfeit", "ana")
    store.add_verdict(b.id, "genuine", "ana")
    store.add_verdict(c.id, "counterfeit", "ana")
    store.add_verdict(c.id, "unsure", "bo")  # changed to unsure: not a training label any more
    assert [i.id for i in store.reviewed_items()] == [a.id, b.id]
    assert {i.id for i in store.reviewed_items(("counterfeit", "genuine", "unsure"))} == {
        a.id, b.id, c.id,
    }  # fmt: skip
    assert d.id not in {i.id for i in store.reviewed_items()}


def test_recorded_by_keeps_who_sent_the_verdict(store: Store, save_item) -> None:
    item = save_item(4)
    after = store.add_verdict(item.id, "counterfeit", "ana", recorded_by="team-key")
    assert after.verdict is not None and after.verdict.recorded_by == "team-key"
    assert after.verdicts[0].recorded_by == "team-key"
    assert "recorded_by" not in after.to_api()["verdict"]  # audit only, not in the API shape


def test_database_down_is_storage_unavailable(store: Store, save_item) -> None:
    from counterscan.serve.storage import StorageUnavailable
    from counterscan.serve.storage.db import make_engine

    item = save_item(5)
    store.close()
    store._engine = make_engine("postgresql://nobody@127.0.0.1:1/none")  # a server that is gone
    assert store.ping() is False
    with pytest.raises(StorageUnavailable, match="database unavailable"):
        store.queue()
    with pytest.raises(StorageUnavailable):
        store.add_verdict(item.id, "genuine", "ana")
