"""GET /v1/items/{id}/similar (inspector): the reviewed cases an item matches.

    {"matches": [{"id", "item_id", "kind", "similarity" | "distance", "verdict": Verdict,
                  "score", "priority", "listing_id", "source", "thumbnail_url", "image_url",
                  "created_at"}, ...]}   strongest first (exact, near_duplicate, similar)

`verdict` here is the matched item's current verdict object (as in Item), so the console can
show who confirmed it and when. An app started without similar cases answers 503.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import StoreDep
from counterscan.serve.api.routes.items import ITEM_ERRORS, Inspector, ItemId
from counterscan.serve.similar.service import SimilarDep, photo_of
from counterscan.serve.storage import ItemNotFound

router = APIRouter(prefix="/v1", tags=["inspection"])


@router.get(
    "/items/{item_id}/similar",
    summary="Confirmed cases this item's photo matches",
    response_model=m.SimilarCases,
    response_model_exclude_unset=True,  # a match has similarity or distance, not both
    responses=ITEM_ERRORS,  # 503 also: similar cases not loaded yet
)
def get_similar(
    item_id: ItemId, _who: Inspector, store: StoreDep, similar: SimilarDep = None
) -> dict[str, Any]:
    if similar is None:
        raise HTTPException(503, "similar cases are not loaded yet")
    item = store.get_item(item_id)
    if item is None:
        raise ItemNotFound(f"no item with id {item_id}")
    out = []
    for match in similar.match(photo_of(item, store)):
        other = store.get_item(match.item_id)
        if other is None:  # deleted meanwhile
            continue
        summary = other.to_api()
        out.append(
            {
                "id": other.id,
                **match.to_api(),
                "verdict": summary["verdict"],
                **{
                    key: summary[key]
                    for key in (
                        "score",
                        "priority",
                        "listing_id",
                        "source",
                        "thumbnail_url",
                        "image_url",
                        "created_at",
                    )
                },
            }
        )
    return {"matches": out}
