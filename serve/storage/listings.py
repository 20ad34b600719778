"""Listings and sellers as rows: a listing seen again is updated, never duplicated; its photos
are the items scored with it; a seller is one row per (source, seller_id).

Written by the scoring pipeline (pipeline/stages.record_listings via sellers/service.py) after
the photos are stored. Keys: a listing or seller sent without a source is kept under "".
Concurrent requests for the same listing or seller meet in `INSERT ... ON CONFLICT DO NOTHING`
followed by a read, so neither fails nor doubles the row.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from counterscan.errors import CounterscanError
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.fields import MAX_PRICE, check_text

# The listing fields a scoring request may send besides the image (api: TEXT_FIELDS + price).
LISTING_TEXT = ("seller_id", "seller_name", "title", "text", "category")


@dataclass(frozen=True)
class ListingInput:
    """What one scoring request said about a listing (checked: `check_listing`)."""

    source: str
    listing_id: str
    url: str | None = None
    seller_id: str | None = None
    seller_name: str | None = None
    title: str | None = None
    text: str | None = None
    price: float | None = None
    category: str | None = None


def check_price(value: Any) -> float | None:
    """A price in VND: a finite number, 0 or more, below MAX_PRICE; text such as "150000" is
    accepted (multipart sends text). Raises CounterscanError naming the field."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CounterscanError("price must be a number (VND)")
    try:
        price = float(value)
    except (TypeError, ValueError):
        raise CounterscanError(f"price must be a number (VND), got {str(value)[:40]!r}") from None
    if not math.isfinite(price) or price < 0 or price > MAX_PRICE:
        raise CounterscanError(f"price must be between 0 and {MAX_PRICE:.0f} VND")
    return price


def check_listing_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The listing fields of a request, checked against fields.MAX_LEN: each error names its
    field (the API answers 422 with it)."""
    out: dict[str, Any] = {name: check_text(name, fields.get(name)) for name in LISTING_TEXT}
    out["price"] = check_price(fields.get("price"))
    return out


def _insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> None:
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(maker(table).values(**values).on_conflict_do_nothing())


def upsert_seller(
    conn: Connection, source: str, seller_id: str, name: str | None, now: datetime
) -> int:
    """The seller's row id, made on first sight; its name and last_seen follow the latest."""
    t = s.sellers.c
    values = {"source": source, "seller_id": seller_id, "name": name}
    _insert_ignore(conn, s.sellers, values | {"first_seen": now, "last_seen": now})
    ref = conn.execute(
        select(t.id).where(t.source == source, t.seller_id == seller_id)
    ).scalar_one()
    changes: dict[str, Any] = {"last_seen": now}
    if name is not None:
        changes["name"] = name
    conn.execute(update(s.sellers).where(t.id == ref).values(**changes))
    return int(ref)


def upsert_listing(
    conn: Connection, info: ListingInput, seller_ref: int | None, item_ids: list[str], now: datetime
) -> int:
    """The listing's row id; fields sent now replace the stored ones (a listing seen again is
    updated: new title, new price), fields not sent are kept. Its photos are added."""
    t = s.listings.c
    new = {
        "source": info.source,
        "listing_id": info.listing_id,
        "score": 0.0,
        "reasons": "[]",
        "first_seen": now,
        "last_seen": now,
    }
    _insert_ignore(conn, s.listings, new)
    ref = int(
        conn.execute(
            select(t.id).where(t.source == info.source, t.listing_id == info.listing_id)
        ).scalar_one()
    )
    sent = {
        "url": info.url,
        "title": info.title,
        "text": info.text,
        "price": info.price,
        "category": info.category,
        "seller_ref": seller_ref,
    }
    changes = {k: v for k, v in sent.items() if v is not None} | {"last_seen": now}
    conn.execute(update(s.listings).where(t.id == ref).values(**changes))
    for item_id in dict.fromkeys(item_ids):
        _insert_ignore(conn, s.listing_items, {"listing_ref": ref, "item_id": item_id})
    return ref


def listing_owner(conn: Connection, source: str, listing_id: str) -> int | None:
    """The seller row id the listing belongs to now (None: none, or no such listing)."""
    t = s.listings.c
    q = select(t.seller_ref).where(t.source == source, t.listing_id == listing_id)
    return conn.execute(q).scalar()


def owners_of_items(conn: Connection, item_ids: list[str]) -> set[int]:
    """The sellers whose listings show any of these items."""
    li, t = s.listing_items.c, s.listings.c
    q = (
        select(t.seller_ref)
        .join(s.listing_items, li.listing_ref == t.id)
        .where(li.item_id.in_(item_ids), t.seller_ref.is_not(None))
        .distinct()
    )
    return {int(r) for r in conn.execute(q).scalars()}


def get_listing(conn: Connection, listing_ref: int) -> dict[str, Any]:
    row = conn.execute(select(s.listings).where(s.listings.c.id == listing_ref)).mappings().one()
    return dict(row)


def listing_photos(conn: Connection, listing_ref: int) -> list[dict[str, Any]]:
    """The listing's photos: item id, score, priority, priority_reason and current verdict."""
    i, li, v = s.items.c, s.listing_items.c, s.verdicts.c
    query = (
        select(i.id, i.sha256, i.score, i.priority, i.priority_reason, v.verdict)
        .select_from(
            s.listing_items.join(s.items, li.item_id == i.id).outerjoin(
                s.verdicts, v.id == i.verdict_id
            )
        )
        .where(li.listing_ref == listing_ref)
        .order_by(i.id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def set_result(conn: Connection, listing_ref: int, score: float, reasons: list[dict]) -> None:
    conn.execute(
        update(s.listings)
        .where(s.listings.c.id == listing_ref)
        .values(score=score, reasons=json.dumps(reasons, ensure_ascii=False))
    )


def add_contacts(conn: Connection, seller_ref: int, contacts: list[tuple[str, str]]) -> None:
    for kind, value in contacts:
        _insert_ignore(
            conn, s.seller_contacts, {"seller_ref": seller_ref, "kind": kind, "value": value}
        )


def genuine_prices(conn: Connection, category: str, exclude_ref: int) -> list[float]:
    """Prices of the category's listings confirmed genuine: at least one photo with the current
    verdict `genuine` and none `counterfeit`."""
    li, i, v, t = s.listing_items.c, s.items.c, s.verdicts.c, s.listings.c
    verdict_of = (
        select(li.listing_ref, v.verdict)
        .select_from(s.listing_items.join(s.items, li.item_id == i.id))
        .join(s.verdicts, v.id == i.verdict_id)
        .subquery()
    )
    flags = (
        select(
            verdict_of.c.listing_ref,
            func.sum(case((verdict_of.c.verdict == "genuine", 1), else_=0)).label("g"),
            func.sum(case((verdict_of.c.verdict == "counterfeit", 1), else_=0)).label("c"),
        )
        .group_by(verdict_of.c.listing_ref)
        .subquery()
    )
    query = (
        select(t.price)
        .join(flags, flags.c.listing_ref == t.id)
        .where(
            t.category == category,
            t.price.is_not(None),
            t.id != exclude_ref,
            flags.c.g > 0,
            flags.c.c == 0,
        )
    )
    return [float(p) for p in conn.execute(query).scalars()]
