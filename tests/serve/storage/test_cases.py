"""The case register on SQLite and PostgreSQL: workflow, history, items, queue, outcome."""

from __future__ import annotations

import pytest

from counterscan.errors import CounterscanError
from counterscan.serve.storage import Store
from counterscan.serve.storage.cases import CaseConflict, CaseNotFound


def test_case_walks_the_workflow_with_every_change_recorded(store: Store, save_item) -> None:
    a, b = save_item(1).id, save_item(2).id
    case = store.cases.create("Shop X bags", [a, b], actor="ana", note="two listings")
    assert (case.status, case.item_ids, case.inspector) == ("open", [a, b], "ana")
    store.cases.set_status(case.id, "inspecting", actor="ana")
    store.cases.set_status(case.id, "violation", actor="bao", note="logo wrong")
    closed = store.cases.close(
        case.id,
        actor="bao",
        violation_kind="counterfeit_goods",
        fine_vnd=15_000_000,
        goods_value_vnd=40_000_000,
        quantity_seized=12,
    )
    assert closed.status == "closed" and closed.outcome == "violation"
    assert (closed.fine_vnd, closed.goods_value_vnd, closed.quantity_seized) == (
        15_000_000,
        40_000_000,
        12,
    )
    assert closed.closed_at is not None
    history = store.cases.get(case.id).history
    assert history is not None
    steps = [(e.kind, e.actor, e.from_status, e.to_status, e.item_id) for e in history]
    assert steps == [
        ("created", "ana", None, "open", None),
        ("item_added", "ana", None, None, a),
        ("item_added", "ana", None, None, b),
        ("status", "ana", "open", "inspecting", None),
        ("status", "bao", "inspecting", "violation", None),
        ("closed", "bao", "violation", "closed", None),
    ]
    assert history[0].note == "two listings" and history[4].note == "logo wrong"
    assert all(e.created_at.tzinfo is not None for e in history)
    assert closed.training_label() == "counterfeit"


def test_workflow_refuses_steps_it_does_not_have(store: Store, save_item) -> None:
    case = store.cases.create("c", [save_item(1).id], actor="ana")
    with pytest.raises(CaseConflict, match="open; it can move to inspecting, not violation"):
        store.cases.set_status(case.id, "violation", actor="ana")
    with pytest.raises(CaseConflict, match="violation or no_violation first"):
        store.cases.close(case.id, actor="ana")
    with pytest.raises(CaseConflict, match="/close"):
        store.cases.set_status(case.id, "closed", actor="ana")
    with pytest.raises(CounterscanError, match="unknown case status"):
        store.cases.set_status(case.id, "done", actor="ana")
    store.cases.set_status(case.id, "inspecting", actor="ana")
    store.cases.set_status(case.id, "violation", actor="ana")
    with pytest.raises(CounterscanError, match="needs violation_kind"):
        store.cases.close(case.id, actor="ana", fine_vnd=1)
    with pytest.raises(CounterscanError, match="fine_vnd must be between"):
        store.cases.close(case.id, actor="ana", violation_kind="other", fine_vnd=-1)
    store.cases.close(case.id, actor="ana", violation_kind="smuggled_goods")
    with pytest.raises(CaseConflict, match="closed"):
        store.cases.set_status(case.id, "inspecting", actor="ana")
    with pytest.raises(CaseConflict, match="closed"):
        store.cases.add_items(case.id, [save_item(2).id], actor="ana")
    assert store.cases.get(case.id).training_label() is None  # smuggled: not a photo label


def test_no_violation_outcome_is_genuine_and_takes_no_fine(store: Store, save_item) -> None:
    case = store.cases.create("c", [save_item(1).id], actor="ana")
    store.cases.set_status(case.id, "inspecting", actor="ana")
    store.cases.set_status(case.id, "no_violation", actor="ana")
    with pytest.raises(CounterscanError, match="without violation"):
        store.cases.close(case.id, actor="ana", fine_vnd=5)
    assert store.cases.close(case.id, actor="ana").training_label() == "genuine"


def test_unknown_case_and_unknown_items(store: Store, save_item) -> None:
    with pytest.raises(CaseNotFound):
        store.cases.get(999)
    with pytest.raises(CaseNotFound, match="no item with id"):
        store.cases.create("c", ["0" * 32], actor="ana")
    with pytest.raises(CounterscanError, match="not an item id"):
        store.cases.create("c", ["../etc"], actor="ana")
    with pytest.raises(CounterscanError, match="title"):
        store.cases.create("   ", [], actor="ana")
    assert store.cases.list() == ([], 0)  # nothing half-made


def test_items_in_a_case_leave_the_unreviewed_queue(store: Store, save_item) -> None:
    a, b, c = (save_item(i).id for i in range(3))
    case = store.cases.create("c", [a], actor="ana")
    queued = [i.id for i in store.queue()[0]]
    assert a not in queued and {b, c} <= set(queued)
    assert store.queue()[1] == 2
    assert sum(store.queue_depth().values()) == 2
    store.cases.add_items(case.id, [b, a], actor="ana")
    assert [i.id for i in store.queue()[0]] == [c]
    assert store.cases.get(case.id).item_ids == [a, b]
    after = store.cases.remove_item(case.id, a, actor="cat")
    assert after.item_ids == [b]
    assert after.history is not None and after.history[-1].kind == "item_removed"
    assert after.history[-1].actor == "cat" and after.history[-1].item_id == a
    assert {i.id for i in store.queue()[0]} == {a, c}
    with pytest.raises(CaseNotFound, match="not in case"):
        store.cases.remove_item(case.id, a, actor="ana")
    assert store.queue(status="all")[1] == 3


def test_list_filters_and_pages(store: Store, save_item) -> None:
    item = save_item(1).id
    made = [
        store.cases.create(f"case {n}", [item], actor="ana", inspector=who)
        for n, who in enumerate(["ana", "bao", "ana", "cat"])
    ]
    store.cases.set_status(made[0].id, "inspecting", actor="ana")
    cases, total = store.cases.list(inspector="ana")
    assert total == 2 and [c.id for c in cases] == [made[2].id, made[0].id]  # newest first
    assert store.cases.list(status="inspecting")[1] == 1
    assert store.cases.list(status="open")[1] == 3
    page, total = store.cases.list(limit=2, offset=2)
    assert total == 4 and [c.id for c in page] == [made[1].id, made[0].id]
    assert page[0].item_ids == [item]
    assert store.cases.inspectors() == ["ana", "bao", "cat"]
    assert store.cases.list(item_id=item)[1] == 4
    with pytest.raises(CounterscanError):
        store.cases.list(status="nope")


def test_notes_and_assignment_are_history(store: Store, save_item) -> None:
    case = store.cases.create("c", [], actor="ana")
    store.cases.add_note(case.id, "called the shop", actor="bao")
    updated = store.cases.update(case.id, actor="ana", inspector="cat", title="Shop Y")
    assert (updated.title, updated.inspector) == ("Shop Y", "cat")
    store.cases.log_event(case.id, "evidence_download", actor="dan", note="zip")
    history = store.cases.get(case.id).history or []
    assert [(e.kind, e.actor, e.note) for e in history[1:]] == [
        ("note", "bao", "called the shop"),
        ("assigned", "ana", "ana -> cat"),
        ("evidence_download", "dan", "zip"),
    ]
    with pytest.raises(CounterscanError, match="note must not be empty"):
        store.cases.add_note(case.id, "  ", actor="bao")


def test_closed_labels_latest_case_wins(store: Store, save_item) -> None:
    a, b = save_item(1).id, save_item(2).id
    for items, outcome in (([a, b], "violation"), ([b], "no_violation")):
        case = store.cases.create("c", items, actor="ana")
        store.cases.set_status(case.id, "inspecting", actor="ana")
        store.cases.set_status(case.id, outcome, actor="ana")
        kind = "ip_infringement" if outcome == "violation" else None
        store.cases.close(case.id, actor="ana", violation_kind=kind)
    labels = {k: v[0] for k, v in store.cases.closed_labels().items()}
    assert labels == {a: "counterfeit", b: "genuine"}
