"""What seller risk is computed from, read in four plain queries: sellers, their listings, the
photos of those listings with their current verdicts, and the sellers' contacts.

Read whole on each request (sellers/risk.py ranks them in Python): simple and exact; a cache or
a stored risk column is the next step for very large databases.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from counterscan.serve.storage import schema as s


@dataclass
class ListingFacts:
    ref: int
    source: str
    listing_id: str
    url: str | None
    title: str | None
    price: float | None
    category: str | None
    score: float
    reasons: list[dict[str, str]]
    last_seen: Any
    photos: list[dict[str, Any]] = field(default_factory=list)  # id, sha256, priority, verdict


@dataclass
class SellerFacts:
    ref: int
    source: str
    seller_id: str
    name: str | None
    first_seen: Any
    last_seen: Any
    listings: list[ListingFacts] = field(default_factory=list)
    contacts: list[tuple[str, str]] = field(default_factory=list)


def load_seller_facts(conn: Connection) -> dict[int, SellerFacts]:
    """Every seller with its listings, their photos and its contacts, by seller row id."""
    sellers = {
        r.id: SellerFacts(r.id, r.source, r.seller_id, r.name, r.first_seen, r.last_seen)
        for r in conn.execute(select(s.sellers))
    }
    t = s.listings.c
    by_ref: dict[int, ListingFacts] = {}
    for r in conn.execute(select(s.listings).where(t.seller_ref.is_not(None)).order_by(t.id)):
        listing = ListingFacts(
            r.id, r.source, r.listing_id, r.url, r.title, r.price, r.category, r.score,
            json.loads(r.reasons), r.last_seen,
        )  # fmt: skip
        by_ref[r.id] = listing
        sellers[r.seller_ref].listings.append(listing)
    li, i, v = s.listing_items.c, s.items.c, s.verdicts.c
    photos = (
        select(li.listing_ref, i.id, i.sha256, i.priority, i.created_at, v.verdict)
        .select_from(
            s.listing_items.join(s.items, li.item_id == i.id).outerjoin(
                s.verdicts, v.id == i.verdict_id
            )
        )
        .order_by(i.id)
    )
    for r in conn.execute(photos).mappings():
        if r["listing_ref"] in by_ref:
            by_ref[r["listing_ref"]].photos.append(dict(r))
    contacts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for r in conn.execute(select(s.seller_contacts).order_by(s.seller_contacts.c.value)):
        contacts[r.seller_ref].append((r.kind, r.value))
    for ref, found in contacts.items():
        if ref in sellers:
            sellers[ref].contacts = found
    return sellers
