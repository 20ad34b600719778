"""What seller risk is computed from, read in four plain queries: sellers, their listings, the
photos of those listings with their current verdicts, and the sellers' contacts.

Read for the sellers whose risk is refreshed (sellers/stored.py), or for all of them when the
risk is recomputed from scratch (sellers/risk.assess, the reference the stored values equal).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, true

from counterscan.serve.storage import schema as s

CHUNK = 500  # sellers per query: bounded IN lists


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


def load_seller_facts(
    conn: Connection, refs: Collection[int] | None = None
) -> dict[int, SellerFacts]:
    """The sellers `refs` (None: every seller) with their listings, the listings' photos and
    the sellers' contacts, by seller row id."""
    if refs is not None and len(refs) > CHUNK:
        out: dict[int, SellerFacts] = {}
        ordered = sorted(refs)
        for n in range(0, len(ordered), CHUNK):
            out.update(load_seller_facts(conn, ordered[n : n + CHUNK]))
        return out
    pick = s.sellers.c.id.in_(list(refs)) if refs is not None else true()
    sellers = {
        r.id: SellerFacts(r.id, r.source, r.seller_id, r.name, r.first_seen, r.last_seen)
        for r in conn.execute(select(s.sellers).where(pick))
    }
    t = s.listings.c
    owned = t.seller_ref.in_(list(refs)) if refs is not None else t.seller_ref.is_not(None)
    by_ref: dict[int, ListingFacts] = {}
    for r in conn.execute(select(s.listings).where(owned).order_by(t.id)):
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
    if refs is not None:  # the photos of their listings (a join: no long list of listings)
        photos = photos.join(s.listings, t.id == li.listing_ref).where(owned)
    for r in conn.execute(photos).mappings():
        if r["listing_ref"] in by_ref:
            by_ref[r["listing_ref"]].photos.append(dict(r))
    contacts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    c = s.seller_contacts.c
    mine = c.seller_ref.in_(list(refs)) if refs is not None else true()
    for r in conn.execute(select(s.seller_contacts).where(mine).order_by(c.value)):
        contacts[r.seller_ref].append((r.kind, r.value))
    for ref, found in contacts.items():
        if ref in sellers:
            sellers[ref].contacts = found
    return sellers
