"""The stored seller risk (sellers/stored.py) equals the formula computed from scratch
(risk.assess) after any sequence of listings scored, moved between sellers, verdicts, raised
priorities and links by phone number or reused photo; and a database whose sellers have no
stored risk yet (from before schema version 7) gets it on start (backfill)."""

from __future__ import annotations

import json
import random
from typing import Any

from sqlalchemy import delete, select

from counterscan.serve.sellers import service
from counterscan.serve.sellers.risk import assess
from counterscan.serve.settings import Settings
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.listings import ListingInput
from counterscan.serve.storage.seller_facts import load_seller_facts

PHONES = ("0912345678", "0987654321", "0355123456")


def _compare(store: Any) -> int:
    """Assert stored == from scratch for every seller; returns how many sellers are linked."""
    with store.read() as conn:
        expected = assess(load_seller_facts(conn))
        rows = {r.seller_ref: r for r in conn.execute(select(s.seller_risk))}
    assert len(rows) == len(expected)
    for a in expected:
        row = rows[a.facts.ref]
        got = {
            "risk": row.risk,
            "reasons": json.loads(row.reasons),
            "linked": json.loads(row.linked),
            "listings": row.listing_count,
            "high": row.high_listings,
            "counterfeit": row.confirmed_counterfeit,
        }
        want = {
            "risk": a.risk,
            "reasons": a.reasons,
            "linked": a.linked,
            "listings": len(a.facts.listings),
            "high": a.high_listings,
            "counterfeit": a.confirmed_counterfeit,
        }
        assert got == want, a.facts.seller_id
    return sum(bool(a.linked) for a in expected)


def test_stored_risk_equals_a_recomputation(store, save_item) -> None:
    rng = random.Random(7)
    settings = Settings(model=None)
    items: list[str] = []
    for step in range(120):
        action = rng.random()
        if action < 0.55 or not items:
            score = rng.random()
            item = save_item(seed=step, score=score, priority="high" if score > 0.7 else "low").id
            items.append(item)
            photos = [item]
            if rng.random() < 0.25:  # a photo reused from another listing: a link
                photos.append(rng.choice(items))
            listing = f"L{rng.randrange(25)}"
            seller = f"S{rng.randrange(12)}"  # a listing seen again may change seller
            text = f"zalo {rng.choice(PHONES)}" if rng.random() < 0.1 else "hàng đẹp"
            info = ListingInput(
                source="tiktok" if listing.endswith("3") else "shopee",
                listing_id=listing,
                seller_id=seller,
                title="N.i.k.e" if rng.random() < 0.2 else "giày",
                text=text,
            )
            service.record(store, settings, [(info, photos)])
        elif action < 0.85:
            item = rng.choice(items)
            verdict = rng.choice(("counterfeit", "genuine", "unsure"))
            store.add_verdict(item, verdict, "ana", then=service.on_verdict)
        else:
            item = rng.choice(items)
            if store.raise_priority(item, "matches confirmed counterfeit x (near_duplicate)"):
                service.on_items_changed(store, [item])
        if step % 10 == 9:
            _compare(store)
    assert _compare(store) >= 2  # the sequence did link sellers


def test_backfill_on_start(store, save_item) -> None:
    settings = Settings(model=None)
    for n in range(6):
        item = save_item(seed=n, score=0.9, priority="high").id
        info = ListingInput(
            source="shopee", listing_id=f"L{n}", seller_id=f"S{n % 3}", text="zalo 0912345678"
        )
        service.record(store, settings, [(info, [item])])
        if n % 2:
            store.add_verdict(item, "counterfeit", "ana", then=service.on_verdict)
    with store.write() as conn:  # as a database from before schema version 7
        conn.execute(delete(s.seller_risk))
    assert service.backfill(store) == 3
    assert _compare(store) == 3
    assert service.backfill(store) == 0
