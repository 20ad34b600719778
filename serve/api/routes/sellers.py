"""Sellers ranked by risk (role: inspector; admins too).

GET /v1/sellers                          riskiest first; filters source, min_risk; paged
GET /v1/sellers/{source}/{seller_id}     one seller with its listings, their signals and photos

The risk and its reasons are computed by counterscan.serve.sellers.risk (formula there and in
the README). A seller sent without a source is addressed with source "-".
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query

from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import StoreDep
from counterscan.serve.api.errors import error_responses
from counterscan.serve.api.security import Principal, require_role
from counterscan.serve.sellers.risk import Assessed
from counterscan.serve.sellers.service import assessed_sellers
from counterscan.serve.storage.queue import MAX_LIMIT, MAX_OFFSET
from counterscan.serve.storage.records import iso_utc

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
    ranked = await anyio.to_thread.run_sync(assessed_sellers, store)
    wanted = [
        a
        for a in ranked
        if a.risk >= min_risk and (source is None or a.facts.source == _source(source))
    ]
    return {
        "sellers": [seller_body(a) for a in wanted[offset : offset + limit]],
        "total": len(wanted),
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
    ranked = await anyio.to_thread.run_sync(assessed_sellers, store)
    key = (_source(source), seller_id)
    for a in ranked:
        if (a.facts.source, a.facts.seller_id) == key:
            listings = sorted(a.facts.listings, key=lambda x: (x.last_seen, x.ref), reverse=True)
            return seller_body(a) | {
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
    raise HTTPException(404, f"no seller {seller_id!r} on source {source!r}")


def seller_body(a: Assessed) -> dict[str, Any]:
    f = a.facts
    return {
        "source": f.source,
        "seller_id": f.seller_id,
        "name": f.name,
        "risk": a.risk,
        "reasons": a.reasons,
        "listings": len(f.listings),
        "high_listings": a.high_listings,
        "confirmed_counterfeit": a.confirmed_counterfeit,
        "linked": a.linked,
        "first_seen": iso_utc(f.first_seen),
        "last_seen": iso_utc(f.last_seen),
    }


def _source(value: str) -> str:
    return "" if value == NO_SOURCE else value
