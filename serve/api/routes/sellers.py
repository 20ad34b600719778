"""Sellers ranked by risk (role: inspector; admins too).

GET /v1/sellers                          riskiest first; filters source, min_risk; paged
GET /v1/sellers/{source}/{seller_id}     one seller with its listings, their signals and photos

The risk and its reasons are computed by counterscan.serve.sellers.risk (formula there and in
the README) and stored as they change (sellers/stored.py): the ranking is one indexed query.
A seller sent without a source is addressed with source "-".
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query

from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import StoreDep
from counterscan.serve.api.errors import error_responses
from counterscan.serve.api.security import Principal, require_role
from counterscan.serve.storage import Store
from counterscan.serve.storage import seller_risk as db
from counterscan.serve.storage.queue import MAX_LIMIT, MAX_OFFSET
from counterscan.serve.storage.records import iso_utc
from counterscan.serve.storage.seller_facts import load_seller_facts

router = APIRouter(prefix="/v1", tags=["sellers"])
Inspector = Annotated[Principal, require_role("inspector")]
NO_SOURCE = "-"


@router.get(
    "/sellers",
    summary="Sellers, riskiest first",
    response_model=m.SellerPage,
    responses=error_responses(401, 403, 422, 503),
)
async def list_sellers(
    _who: Inspector,
    store: StoreDep,
    source: str | None = None,
    min_risk: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    wanted = None if source is None else _source(source)

    def read() -> tuple[list[dict[str, Any]], int]:
        with store.read() as conn:
            return db.ranked(conn, source=wanted, min_risk=min_risk, limit=limit, offset=offset)

    rows, total = await anyio.to_thread.run_sync(read)
    return {
        "sellers": [seller_body(r) for r in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get(
    "/sellers/{source}/{seller_id}",
    summary="One seller with its listings",
    response_model=m.SellerDetail,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def get_seller(source: str, seller_id: str, _who: Inspector, store: StoreDep) -> Any:
    found = await anyio.to_thread.run_sync(_one, store, _source(source), seller_id)
    if found is None:
        raise HTTPException(404, f"no seller {seller_id!r} on source {source!r}")
    return found


def _one(store: Store, source: str, seller_id: str) -> dict[str, Any] | None:
    with store.read() as conn:
        row = db.one(conn, source, seller_id)
        if row is None:
            return None
        facts = load_seller_facts(conn, [row["seller_ref"]])[row["seller_ref"]]
    listings = sorted(facts.listings, key=lambda x: (x.last_seen, x.ref), reverse=True)
    return seller_body(row) | {
        "listing_details": [
            {
                "source": x.source,
                "listing_id": x.listing_id,
                "url": x.url,
                "title": x.title,
                "price": x.price,
                "category": x.category,
                "score": x.score,
                "reasons": x.reasons,
                "item_ids": [p["id"] for p in x.photos],
                "photos": [
                    {"id": p["id"], "priority": p["priority"], "verdict": p["verdict"]}
                    for p in x.photos
                ],
                "last_seen": iso_utc(x.last_seen),
            }
            for x in listings
        ]
    }


def seller_body(row: dict[str, Any]) -> dict[str, Any]:
    """A stored seller_risk row (storage/seller_risk.py) as the API shows it."""
    return {
        "source": row["source"],
        "seller_id": row["seller_id"],
        "name": row["name"],
        "risk": row["risk"],
        "reasons": row["reasons"],
        "listings": row["listing_count"],
        "high_listings": row["high_listings"],
        "confirmed_counterfeit": row["confirmed_counterfeit"],
        "linked": row["linked"],
        "first_seen": iso_utc(row["first_seen"]),
        "last_seen": iso_utc(row["last_seen"]),
    }


def _source(value: str) -> str:
    return "" if value == NO_SOURCE else value
