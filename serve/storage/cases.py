"""The case register: inspections from opening to outcome, with their full history.

    cases = store.cases
    case = cases.create("Shop X fake bags", [item_a, item_b], actor="ana")
    cases.set_status(case.id, "inspecting", actor="ana")
    cases.set_status(case.id, "violation", actor="ana")
    cases.close(case.id, actor="ana", violation_kind="counterfeit_goods", fine_vnd=15_000_000)

Every change appends a `case_events` row in the same transaction (who, when, from/to status),
so the history is complete by construction. Items in a case leave the unreviewed queue
(queue.py); a closed case's outcome is the strongest training label (verdict_export.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, delete, insert, select

from counterscan.errors import CounterscanError
from counterscan.serve.storage import case_rows as cr
from counterscan.serve.storage import counting, cursor
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.case_records import TRANSITIONS, CaseRecord
from counterscan.serve.storage.case_rows import (  # re-exported: callers import them from here
    CaseConflict,
    CaseNotFound,
)
from counterscan.serve.storage.fields import check_text
from counterscan.serve.storage.queue import check_page
from counterscan.serve.storage.records import Page


class _Transactions(Protocol):
    """What the register needs of store.Store (not imported: store.py imports this module)."""

    exact_count_up_to: int

    def _read(self) -> AbstractContextManager[Connection]: ...
    def _write(self) -> AbstractContextManager[Connection]: ...


MAX_VND = 10**15  # far above any fine; within a 64-bit integer


class CaseRegister:
    def __init__(self, store: _Transactions) -> None:
        self.store = store

    # --- reading ---

    def get(self, case_id: int) -> CaseRecord:
        with self.store._read() as conn:
            return cr.load(conn, case_id, history=True)

    def list(
        self,
        status: str | None = None,
        inspector: str | None = None,
        item_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[CaseRecord], int]:
        """Newest first; `status` "active" means every status but closed."""
        found = self.page(status, inspector, item_id, limit, offset)
        return found.items, found.total

    def page(
        self,
        status: str | None = None,
        inspector: str | None = None,
        item_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
        after: str | None = None,
    ) -> Page:
        """list() with a keyset cursor (`after`: the next_cursor of the page before) and a
        total counted by counting.py (exact up to a cap, estimated and labelled beyond)."""
        check_page(limit, offset)
        c = s.cases.c
        where = []
        if status == "active":
            where.append(c.status != "closed")
        elif status:
            if status not in s.CASE_STATUSES:
                raise CounterscanError(f"unknown case status {status!r}")
            where.append(c.status == status)
        if inspector:
            where.append(c.inspector == inspector)
        if item_id:
            inside = select(s.case_items.c.case_id).where(s.case_items.c.item_id == item_id)
            where.append(c.id.in_(inside))
        rows_query = select(c.id).where(*where)
        if after is not None:
            where.append(c.id < cursor.decode(after, (int,))[0])
        query = select(s.cases).where(*where).order_by(c.id.desc()).limit(limit + 1)
        with self.store._read() as conn:
            total = counting.count(conn, rows_query, exact_up_to=self.store.exact_count_up_to)
            rows = conn.execute(query.offset(offset)).mappings().all()
            members = cr.members(conn, [r["id"] for r in rows[:limit]])
        following = cursor.encode(rows[limit - 1]["id"]) if len(rows) > limit else None
        found = [cr.record(r, members.get(r["id"], [])) for r in rows[:limit]]
        return Page(found, total.n, total.is_estimate, following)

    def links(self, item_ids: list[str]) -> tuple[dict[str, list[dict[str, Any]]], list[dict]]:
        """(item id -> its listings with their sellers, the distinct sellers): what a case
        links to through listing_items -> listings -> sellers (empty without listings)."""
        with self.store._read() as conn:
            links = cr.listing_links(conn, list(item_ids))
        return links, cr.sellers_of(links, list(item_ids))

    def inspectors(self) -> list[str]:
        """Every assigned inspector (for the console's filter)."""
        query = select(s.cases.c.inspector).where(s.cases.c.inspector.is_not(None)).distinct()
        with self.store._read() as conn:
            return sorted(conn.execute(query).scalars())

    def closed_labels(self) -> dict[str, tuple[str, CaseRecord]]:
        """item id -> (label, case) from closed cases whose outcome is a label; the latest
        closed case wins when an item is in several."""
        query = (
            select(s.cases)
            .where(s.cases.c.status == "closed")
            .order_by(s.cases.c.closed_at, s.cases.c.id)
        )
        out: dict[str, tuple[str, CaseRecord]] = {}
        with self.store._read() as conn:
            rows = conn.execute(query).mappings().all()
            members = cr.members(conn, [r["id"] for r in rows])
        for row in rows:
            case = cr.record(row, members.get(row["id"], []))
            label = case.training_label()
            if label is not None:
                for item_id in case.item_ids:
                    out[item_id] = (label, case)
        return out

    # --- changing ---

    def create(
        self,
        title: str,
        item_ids: Iterable[str],
        *,
        actor: str,
        inspector: str | None = None,
        note: str = "",
        at: datetime | None = None,
        seller: tuple[str, str] | None = None,
    ) -> CaseRecord:
        """A new case in status "open"; `at`: the time to record (scripts replaying history).
        `seller` (source, seller_id): every item of that seller's listings joins the case too
        besides `item_ids`; CaseNotFound names an unknown seller."""
        title = cr.title(title)
        ids = cr.item_ids(item_ids)
        actor = check_text("inspector", actor, required=True) or ""
        inspector = check_text("inspector", (inspector or "").strip() or None) or actor
        note = check_text("note", note or "") or ""
        now = at or datetime.now(UTC)
        with self.store._write() as conn:
            cr.check_items_exist(conn, ids)
            if seller is not None:
                ids = cr.with_seller_items(conn, ids, *seller)
            case_id = conn.execute(
                insert(s.cases).values(
                    title=title,
                    inspector=inspector,
                    status="open",
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]
            cr.event(conn, case_id, "created", actor, now, to_status="open", note=note)
            for item_id in ids:
                cr.add_item(conn, case_id, item_id, actor, now)
            return cr.load(conn, case_id, history=True)

    def set_status(
        self, case_id: int, status: str, *, actor: str, note: str = "", at: datetime | None = None
    ) -> CaseRecord:
        if status == "closed":
            raise CaseConflict("close a case with POST /v1/cases/{id}/close and its outcome")
        if status not in s.CASE_STATUSES:
            raise CounterscanError(f"unknown case status {status!r}")
        now = at or datetime.now(UTC)
        with self.store._write() as conn:
            case = cr.lock(conn, case_id)
            if status not in TRANSITIONS[case.status]:
                allowed = ", ".join(TRANSITIONS[case.status]) or "nothing (it is closed)"
                raise CaseConflict(
                    f"case {case_id} is {case.status}; it can move to {allowed}, not {status}"
                )
            outcome = status if status in ("violation", "no_violation") else None
            cr.update(conn, case_id, now, status=status, outcome=outcome)
            cr.event(conn, case_id, "status", actor, now, case.status, status, note=note)
            return cr.load(conn, case_id, history=True)

    def close(
        self,
        case_id: int,
        *,
        actor: str,
        violation_kind: str | None = None,
        fine_vnd: int | None = None,
        goods_value_vnd: int | None = None,
        quantity_seized: int | None = None,
        note: str = "",
        at: datetime | None = None,
    ) -> CaseRecord:
        """Record the outcome and close. The case must be at violation or no_violation."""
        for name, value in (
            ("fine_vnd", fine_vnd),
            ("goods_value_vnd", goods_value_vnd),
            ("quantity_seized", quantity_seized),
        ):
            if value is not None and not 0 <= value <= MAX_VND:
                raise CounterscanError(f"{name} must be between 0 and {MAX_VND}, not {value}")
        now = at or datetime.now(UTC)
        with self.store._write() as conn:
            case = cr.lock(conn, case_id)
            if case.status == "violation":
                if violation_kind not in s.VIOLATION_KINDS:
                    raise CounterscanError(
                        f"a violation needs violation_kind, one of {', '.join(s.VIOLATION_KINDS)}"
                    )
            elif case.status == "no_violation":
                if violation_kind or fine_vnd or quantity_seized:
                    raise CounterscanError(
                        "a case without violation has no violation_kind, fine or seized goods"
                    )
            else:
                raise CaseConflict(
                    f"case {case_id} is {case.status}; set it to violation or no_violation first"
                )
            cr.update(
                conn,
                case_id,
                now,
                status="closed",
                closed_at=now,
                violation_kind=violation_kind,
                fine_vnd=fine_vnd,
                goods_value_vnd=goods_value_vnd,
                quantity_seized=quantity_seized,
            )
            cr.event(conn, case_id, "closed", actor, now, case.status, "closed", note=note)
            return cr.load(conn, case_id, history=True)

    def add_note(self, case_id: int, note: str, *, actor: str) -> CaseRecord:
        note = check_text("note", (note or "").strip(), required=True) or ""
        now = datetime.now(UTC)
        with self.store._write() as conn:
            cr.lock(conn, case_id)
            cr.update(conn, case_id, now)
            cr.event(conn, case_id, "note", actor, now, note=note)
            return cr.load(conn, case_id, history=True)

    def update(
        self, case_id: int, *, actor: str, title: str | None = None, inspector: str | None = None
    ) -> CaseRecord:
        """Rename or assign to another inspector (recorded as an `assigned` event)."""
        now = datetime.now(UTC)
        with self.store._write() as conn:
            case = cr.lock(conn, case_id)
            values: dict[str, Any] = {}
            if title is not None:
                values["title"] = cr.title(title)
            if inspector is not None:
                who = check_text("inspector", inspector.strip(), required=True)
                if who != case.inspector:
                    values["inspector"] = who
                    cr.event(
                        conn, case_id, "assigned", actor, now, note=f"{case.inspector} -> {who}"
                    )
            cr.update(conn, case_id, now, **values)
            return cr.load(conn, case_id, history=True)

    def add_items(self, case_id: int, item_ids: Iterable[str], *, actor: str) -> CaseRecord:
        ids = cr.item_ids(item_ids)
        now = datetime.now(UTC)
        with self.store._write() as conn:
            case = cr.open_case(conn, case_id)
            cr.check_items_exist(conn, ids)
            for item_id in ids:
                if item_id not in case.item_ids:
                    cr.add_item(conn, case_id, item_id, actor, now)
            cr.update(conn, case_id, now)
            return cr.load(conn, case_id, history=True)

    def remove_item(self, case_id: int, item_id: str, *, actor: str) -> CaseRecord:
        now = datetime.now(UTC)
        with self.store._write() as conn:
            case = cr.open_case(conn, case_id)
            if item_id not in case.item_ids:
                raise CaseNotFound(f"item {item_id} is not in case {case_id}")
            t = s.case_items.c
            conn.execute(delete(s.case_items).where(t.case_id == case_id, t.item_id == item_id))
            cr.event(conn, case_id, "item_removed", actor, now, item_id=item_id)
            cr.update(conn, case_id, now)
            return cr.load(conn, case_id, history=True)

    def log_event(self, case_id: int, kind: str, *, actor: str, note: str = "") -> None:
        """Record something done with the case that changes nothing (an evidence download)."""
        with self.store._write() as conn:
            cr.lock(conn, case_id)
            cr.event(conn, case_id, kind, actor, datetime.now(UTC), note=note)
