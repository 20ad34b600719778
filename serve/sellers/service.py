"""Record the listings of a scoring request, with their signals (blocking: run in a thread).

A listing's score is the HIGHEST score of its photos: one counterfeit photo makes the listing
suspect, and genuine photos beside it (stock pictures, the box) do not make it less so; an
average would let a seller dilute a fake among honest pictures.
Its reasons are recomputed each time it is seen: `known_counterfeit` (a photo confirmed
counterfeit, or raised for matching one: similar/), `low_price`, `contact_details`,
`disguised_brand` (signals.py). Contacts found are kept on the seller: they link sellers.
The stored risk of the sellers concerned is refreshed in the same transaction (stored.py); a
verdict (`on_verdict`, in its transaction) or a raised priority (`on_items_changed`) refreshes
the sellers of its item. All three drop the kept trend counts of the past days their photos
were scored on (storage/trends.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from counterscan.serve.sellers import alerts, signals
from counterscan.serve.sellers import stored as stored_risk
from counterscan.serve.settings import Settings
from counterscan.serve.storage import Store
from counterscan.serve.storage import listings as db
from counterscan.serve.storage import trends as trend_counts
from counterscan.serve.storage.listings import ListingInput


def known_counterfeit_reason(photos: list[dict[str, Any]]) -> dict[str, Any] | None:
    confirmed = [p["id"] for p in photos if p["verdict"] == "counterfeit"]
    raised = [p["priority_reason"] for p in photos if p["priority_reason"]]
    if confirmed:
        return {
            "signal": "known_counterfeit",
            "detail": f"photo {confirmed[0]} is a confirmed counterfeit",
        }
    if raised:
        return {"signal": "known_counterfeit", "detail": f"a photo {raised[0]}"}
    return None


def record(
    store: Store,
    settings: Settings,
    groups: list[tuple[ListingInput, list[str]]],
    now: datetime | None = None,
) -> None:
    """Upsert each (listing, its item ids now), then its score, reasons and seller contacts;
    then the alert rules (alerts.py), in the same transaction."""
    now = now or datetime.now(UTC)
    for info, item_ids in groups:
        with store.write() as conn:
            seller_ref = None
            before = db.listing_owner(conn, info.source, info.listing_id)
            if info.seller_id is not None:
                seller_ref = db.upsert_seller(
                    conn, info.source, info.seller_id, info.seller_name, now
                )
            ref = db.upsert_listing(conn, info, seller_ref, item_ids, now)
            stored = db.get_listing(conn, ref)
            full = replace(
                info,
                title=stored["title"],
                text=stored["text"],
                price=stored["price"],
                category=stored["category"],
            )
            photos = db.listing_photos(conn, ref)
            contacts = signals.find_contacts(full.title, full.text)
            genuine = (
                db.genuine_prices(conn, full.category, ref)
                if full.category and full.price is not None
                else []
            )
            reasons = [
                known_counterfeit_reason(photos),
                signals.price_reason(
                    full.price,
                    genuine,
                    ratio=settings.low_price_ratio,
                    min_samples=settings.low_price_min_samples,
                ),
                signals.contact_reason(contacts),
                signals.brand_reason(signals.find_disguised_brands(full.title, full.text)),
            ]
            score = max((p["score"] for p in photos), default=0.0)
            found = [r for r in reasons if r is not None]
            db.set_result(conn, ref, score, found)
            owner = stored["seller_ref"]
            if owner is not None and contacts:
                db.add_contacts(conn, owner, contacts)
            stored_risk.refresh(conn, {r for r in (owner, before) if r is not None})
            trend_counts.forget_items_days(conn, [p["id"] for p in photos], now)
            alerts.evaluate(conn, settings, db.get_listing(conn, ref), photos, found, now)


def on_verdict(conn: Connection, item_id: str) -> None:
    """In the verdict's transaction (Store.add_verdict `then`): its sellers' stored risk."""
    stored_risk.refresh(conn, db.owners_of_items(conn, [item_id]))
    trend_counts.forget_items_days(conn, [item_id])


def on_items_changed(store: Store, item_ids: list[str]) -> None:
    """After a verdict or a raised priority: refresh the stored risk of the sellers whose
    listings show these items (blocking: a thread)."""
    if not item_ids:
        return
    with store.write() as conn:
        stored_risk.refresh(conn, db.owners_of_items(conn, item_ids))
        trend_counts.forget_items_days(conn, item_ids)


def backfill(store: Store) -> int:
    """Compute the stored risk of sellers that have none (on start; blocking: a thread)."""
    with store.write() as conn:
        return stored_risk.backfill(conn)
