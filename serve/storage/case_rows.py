"""Rows of the case register (storage/cases.py): checks, reads and writes that run inside the
register's transactions, and the records they become. Called as `cr.name(...)` there."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, insert, select

from counterscan.errors import CounterscanError
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.case_records import CaseEvent, CaseRecord
from counterscan.serve.storage.fields import MAX_LEN, check_text, is_item_id

MAX_TITLE = MAX_LEN["case_title"]
MAX_ITEMS_PER_CALL = 500


class CaseNotFound(CounterscanError):
    """No case has this id: 404."""


class CaseConflict(CounterscanError):
    """The case's state does not allow this (a closed case, a step the workflow lacks): 409."""


def title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise CounterscanError("title must not be empty")
    if len(title) > MAX_TITLE:
        raise CounterscanError(f"title is longer than {MAX_TITLE} characters")
    return title


def item_ids(item_ids: Iterable[str]) -> list[str]:
    ids = list(dict.fromkeys(item_ids))
    bad = [i for i in ids if not is_item_id(i)]
    if bad:
        raise CounterscanError(f"not an item id: {str(bad[0])[:40]!r}")
    if len(ids) > MAX_ITEMS_PER_CALL:
        raise CounterscanError(f"at most {MAX_ITEMS_PER_CALL} items at once")
    return ids


def check_items_exist(conn: Connection, ids: list[str]) -> None:
    if not ids:
        return
    found = set(conn.execute(select(s.items.c.id).where(s.items.c.id.in_(ids))).scalars())
    missing = [i for i in ids if i not in found]
    if missing:
        raise CaseNotFound(f"no item with id {missing[0]}")


def add_item(conn: Connection, case_id: int, item_id: str, actor: str, now: datetime) -> None:
    conn.execute(
        insert(s.case_items).values(case_id=case_id, item_id=item_id, added_by=actor, added_at=now)
    )
    event(conn, case_id, "item_added", actor, now, item_id=item_id)


def event(
    conn: Connection,
    case_id: int,
    kind: str,
    actor: str,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    *,
    item_id: str | None = None,
    note: str = "",
) -> None:
    conn.execute(
        insert(s.case_events).values(
            case_id=case_id,
            kind=kind,
            actor=check_text("inspector", actor, required=True),
            from_status=from_status,
            to_status=to_status,
            item_id=item_id,
            note=check_text("note", note or "") or "",
            created_at=now,
        )
    )


def update(conn: Connection, case_id: int, now: datetime, **values: Any) -> None:
    conn.execute(sa.update(s.cases).where(s.cases.c.id == case_id).values(updated_at=now, **values))


def lock(conn: Connection, case_id: int) -> CaseRecord:
    """The case, its row locked (PostgreSQL) so concurrent changes apply one after another."""
    query = select(s.cases).where(s.cases.c.id == case_id).with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise CaseNotFound(f"no case with id {case_id}")
    return record(row, members(conn, [case_id]).get(case_id, []))


def open_case(conn: Connection, case_id: int) -> CaseRecord:
    case = lock(conn, case_id)
    if case.status == "closed":
        raise CaseConflict(f"case {case_id} is closed; its items cannot change")
    return case


def load(conn: Connection, case_id: int, *, history: bool) -> CaseRecord:
    row = conn.execute(select(s.cases).where(s.cases.c.id == case_id)).mappings().first()
    if row is None:
        raise CaseNotFound(f"no case with id {case_id}")
    events = None
    if history:
        e = s.case_events.c
        rows = conn.execute(
            select(s.case_events).where(e.case_id == case_id).order_by(e.id)
        ).mappings()
        events = [
            CaseEvent(
                r["kind"],
                r["actor"],
                r["created_at"],
                r["from_status"],
                r["to_status"],
                r["item_id"],
                r["note"] or "",
            )
            for r in rows
        ]
    return record(row, members(conn, [case_id]).get(case_id, []), events)


def members(conn: Connection, case_ids: list[int]) -> dict[int, list[str]]:
    if not case_ids:
        return {}
    t = s.case_items.c
    query = (
        select(t.case_id, t.item_id).where(t.case_id.in_(case_ids)).order_by(t.added_at, t.item_id)
    )
    out: dict[int, list[str]] = {}
    for case_id, item_id in conn.execute(query):
        out.setdefault(case_id, []).append(item_id)
    return out


def record(row: Any, item_ids: list[str], history: list[CaseEvent] | None = None) -> CaseRecord:
    return CaseRecord(
        id=int(row["id"]),
        title=row["title"],
        inspector=row["inspector"],
        status=row["status"],
        outcome=row["outcome"],
        violation_kind=row["violation_kind"],
        fine_vnd=int_or_none(row["fine_vnd"]),
        goods_value_vnd=int_or_none(row["goods_value_vnd"]),
        quantity_seized=int_or_none(row["quantity_seized"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        closed_at=row["closed_at"],
        item_ids=item_ids,
        history=history,
    )


def int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def listing_links(conn: Connection, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """item id -> the listings it belongs to (listing_items -> listings -> sellers), each with
    its source, listing id, category and seller (None when the crawler sent no seller)."""
    if not ids:
        return {}
    li, lst, sel = s.listing_items.c, s.listings.c, s.sellers.c
    query = (
        select(li.item_id, lst.source, lst.listing_id, lst.category, sel.seller_id, sel.name)
        .select_from(
            s.listing_items.join(s.listings, lst.id == li.listing_ref).outerjoin(
                s.sellers, sel.id == lst.seller_ref
            )
        )
        .where(li.item_id.in_(ids))
        .order_by(lst.id)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(query).mappings():
        seller = (
            None
            if r["seller_id"] is None
            else {"source": r["source"], "seller_id": r["seller_id"], "name": r["name"]}
        )
        out.setdefault(r["item_id"], []).append(
            {
                "source": r["source"],
                "listing_id": r["listing_id"],
                "category": r["category"],
                "seller": seller,
            }
        )
    return out


def sellers_of(links: dict[str, list[dict[str, Any]]], ids: list[str]) -> list[dict[str, Any]]:
    """The distinct sellers of these items' listings, in the order the items were added."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for item_id in ids:
        for link in links.get(item_id, []):
            seller = link["seller"]
            if seller is not None:
                seen.setdefault((seller["source"], seller["seller_id"]), seller)
    return list(seen.values())


def with_seller_items(conn: Connection, ids: list[str], source: str, seller_id: str) -> list[str]:
    """`ids` and the seller's items, each once, within MAX_ITEMS_PER_CALL."""
    out = list(dict.fromkeys([*ids, *seller_items(conn, source, seller_id)]))
    if len(out) > MAX_ITEMS_PER_CALL:
        raise CounterscanError(
            f"seller {seller_id!r} on source {source!r} brings the case to {len(out)} items, "
            f"more than {MAX_ITEMS_PER_CALL} at once; open it from chosen items instead"
        )
    return out


def seller_items(conn: Connection, source: str, seller_id: str) -> list[str]:
    """Every item of a seller's listings (oldest first); CaseNotFound names an unknown seller."""
    sel, lst, li = s.sellers.c, s.listings.c, s.listing_items.c
    query = select(sel.id).where(sel.source == source, sel.seller_id == seller_id)
    ref = conn.execute(query).scalar_one_or_none()
    if ref is None:
        raise CaseNotFound(f"no seller {seller_id!r} on source {source!r}")
    query = (
        select(li.item_id)
        .select_from(s.listing_items.join(s.listings, lst.id == li.listing_ref))
        .where(lst.seller_ref == ref)
        .order_by(li.item_id)
        .distinct()
    )
    return list(conn.execute(query).scalars())
