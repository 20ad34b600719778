"""Stored seller risk as rows (`seller_risk`): who is linked to whom, the stored values read
and written, and the ranking read by GET /v1/sellers as one indexed query.

The values are computed in sellers/ (risk.py: the formula; stored.py: when to refresh); this
module only moves them in and out of the database.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, and_, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from counterscan.serve.storage import schema as s
from counterscan.serve.storage.seller_facts import CHUNK

# Refreshes of stored risk take this transaction-scoped lock on PostgreSQL, so a refresh never
# reads a linked seller's value that a concurrent one is about to change (SQLite: writers are
# serialised anyway).
LOCK_KEY = 0x5E11E5


def lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _chunks(refs: Collection[int]) -> list[list[int]]:
    ordered = sorted(refs)
    return [ordered[n : n + CHUNK] for n in range(0, len(ordered), CHUNK)]


def neighbours(
    conn: Connection, refs: Collection[int]
) -> dict[int, dict[int, set[tuple[str, str]]]]:
    """For each seller in `refs`, the other sellers sharing a contact or a photo (same bytes)
    with it, and what they share: {ref: {other: {(kind, value)}}}, kind "photo" for sha256."""
    out: dict[int, dict[int, set[tuple[str, str]]]] = defaultdict(lambda: defaultdict(set))
    c1, c2 = s.seller_contacts.alias("c1"), s.seller_contacts.alias("c2")
    l1, l2 = s.listings.alias("l1"), s.listings.alias("l2")
    li1, li2 = s.listing_items.alias("li1"), s.listing_items.alias("li2")
    i1, i2 = s.items.alias("i1"), s.items.alias("i2")
    for part in _chunks(refs):
        contacts = select(c1.c.seller_ref, c2.c.seller_ref, c1.c.kind, c1.c.value).join(
            c2,
            and_(
                c2.c.kind == c1.c.kind,
                c2.c.value == c1.c.value,
                c2.c.seller_ref != c1.c.seller_ref,
            ),
        )
        for a, b, kind, value in conn.execute(contacts.where(c1.c.seller_ref.in_(part))):
            out[a][b].add((kind, value))
        photos = (
            select(l1.c.seller_ref, l2.c.seller_ref, i1.c.sha256)
            .select_from(l1)
            .join(li1, li1.c.listing_ref == l1.c.id)
            .join(i1, i1.c.id == li1.c.item_id)
            .join(i2, i2.c.sha256 == i1.c.sha256)
            .join(li2, li2.c.item_id == i2.c.id)
            .join(l2, l2.c.id == li2.c.listing_ref)
            .where(
                l1.c.seller_ref.in_(part),
                l2.c.seller_ref.is_not(None),
                l2.c.seller_ref != l1.c.seller_ref,
            )
            .distinct()
        )
        for a, b, sha in conn.execute(photos):
            out[a][b].add(("photo", sha))
    return out


def stored(conn: Connection, refs: Collection[int]) -> dict[int, dict[str, Any]]:
    """The stored rows of `refs` (missing: not computed yet), JSON columns decoded."""
    out = {}
    for part in _chunks(refs):
        for r in conn.execute(select(s.seller_risk).where(s.seller_risk.c.seller_ref.in_(part))):
            row = dict(r._mapping)
            for name in ("evidence", "reasons", "linked"):
                row[name] = json.loads(row[name])
            out[row["seller_ref"]] = row
    return out


def linked_refs(conn: Connection, rows: list[dict[str, Any]]) -> set[int]:
    """The row ids of the sellers named in the stored `linked` lists of `rows`."""
    keys = {(x["source"], x["seller_id"]) for row in rows for x in row["linked"]}
    if not keys:
        return set()
    t = s.sellers.c
    found = set()
    ordered = sorted(keys)
    for n in range(0, len(ordered), CHUNK):
        part = ordered[n : n + CHUNK]
        q = select(t.id, t.source, t.seller_id).where(t.source.in_({k[0] for k in part}))
        q = q.where(t.seller_id.in_({k[1] for k in part}))
        found |= {r.id for r in conn.execute(q) if (r.source, r.seller_id) in keys}
    return found


def write(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert or replace stored rows (each with every column; JSON columns as Python)."""
    if not rows:
        return
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = maker(s.seller_risk)
    names = [c.name for c in s.seller_risk.columns if c.name != "seller_ref"]
    stmt = stmt.on_conflict_do_update(
        index_elements=["seller_ref"], set_={k: stmt.excluded[k] for k in names}
    )
    values = []
    for row in rows:
        value = dict(row)
        for name in ("evidence", "reasons", "linked"):
            value[name] = json.dumps(value[name], ensure_ascii=False)
        values.append(value)
    conn.execute(stmt, values)  # one batched statement (executemany)


def missing(conn: Connection, limit: int) -> list[int]:
    """Up to `limit` sellers without a stored row (databases from before version 7)."""
    t, r = s.sellers.c, s.seller_risk.c
    q = (
        select(t.id)
        .outerjoin(s.seller_risk, r.seller_ref == t.id)
        .where(r.seller_ref.is_(None))
        .order_by(t.id)
        .limit(limit)
    )
    return [int(x) for x in conn.execute(q).scalars()]


def ranked(
    conn: Connection, *, source: str | None, min_risk: float, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of sellers riskiest first (ties: source, seller_id) with the total, from the
    rank indexes (ix_seller_risk_rank, ix_seller_risk_source_rank)."""
    r = s.seller_risk.c
    where = [r.risk >= min_risk]
    if source is not None:
        where.append(r.source == source)
    total = conn.execute(select(func.count()).select_from(s.seller_risk).where(*where))
    order = (r.risk.desc(), r.source, r.seller_id)
    # The page's ids first, from the index alone (rows skipped by offset are never read).
    ids = select(r.seller_ref).where(*where).order_by(*order).limit(limit).offset(offset)
    page = (
        select(s.seller_risk, s.sellers.c.name, s.sellers.c.first_seen, s.sellers.c.last_seen)
        .join(s.sellers, s.sellers.c.id == r.seller_ref)
        .where(r.seller_ref.in_(ids.scalar_subquery()))
        .order_by(*order)
    )
    return [_decoded(row) for row in conn.execute(page)], int(total.scalar_one())


def one(conn: Connection, source: str, seller_id: str) -> dict[str, Any] | None:
    t = s.sellers.c
    q = (
        select(s.seller_risk, t.name, t.first_seen, t.last_seen)
        .join(s.sellers, t.id == s.seller_risk.c.seller_ref)
        .where(t.source == source, t.seller_id == seller_id)
    )
    row = conn.execute(q).first()
    return _decoded(row) if row is not None else None


def _decoded(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for name in ("evidence", "reasons", "linked"):
        out[name] = json.loads(out[name])
    return out
