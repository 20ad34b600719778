"""The inspection queue, items, their images, and verdicts (role: inspector).

GET  /v1/queue                   ranked unreviewed (or reviewed, or all) items, filtered, paged
                                 by cursor (`after` = the last page's `next_cursor`) or offset
GET  /v1/items/{id}              one item with its verdict history
GET  /v1/items/{id}/image        the stored original bytes
GET  /v1/items/{id}/thumbnail    a JPEG thumbnail
GET  /v1/items/{id}/heatmap      PNG heat-map overlay from the model being served now
POST /v1/items/{id}/verdict      add a verdict (history kept) -> the updated item

Ids must match the store's format (32 lowercase hex digits) before anything is looked up, so
`../` and friends are refused with 422 and never reach the database or the file system; files
are found by the item's stored sha256 only. Store calls block, so these are plain `def` routes
(FastAPI runs them in its thread pool); the heat map awaits the model's batcher instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from counterscan.contract import BANDS
from counterscan.formats import mime_of, suffix_of
from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import ScoringDep, StoreDep
from counterscan.serve.api.errors import error_responses
from counterscan.serve.api.security import Principal, require_role
from counterscan.serve.sellers import service as seller_service
from counterscan.serve.similar.service import SimilarDep
from counterscan.serve.storage import ItemNotFound, ItemRecord, Store
from counterscan.serve.storage.cursor import MAX_CURSOR
from counterscan.serve.storage.evidence import image_format
from counterscan.serve.storage.fields import ITEM_ID_RE
from counterscan.serve.storage.queue import MAX_LIMIT, MAX_OFFSET

router = APIRouter(prefix="/v1", tags=["inspection"])

Inspector = Annotated[Principal, require_role("inspector")]
ItemId = Annotated[
    str,
    PathParam(
        pattern=ITEM_ID_RE.pattern,
        description="item id: 32 lowercase hex digits",
        examples=["0194c3a1b2c3d4e5f60718293a4b5c6d"],
    ),
]
# Evidence never changes under its address: browsers may keep it as long as they like.
IMMUTABLE = {
    "Cache-Control": "private, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}
AFTER = (
    "the next_cursor of the page before: the page after it, found through the index (fast at "
    "any depth, stable while items arrive); offset then counts from there"
)
# The errors of every route here that reads one item (similar.py's too).
ITEM_ERRORS = error_responses(401, 403, 404, 422, 503)


@router.get(
    "/queue",
    summary="The inspection queue, riskiest first",
    response_model=m.QueuePage,
    responses=error_responses(401, 403, 422, 503),
)
def get_queue(
    _who: Inspector,
    store: StoreDep,
    status: Literal["unreviewed", "reviewed", "all"] = "unreviewed",
    priority: Annotated[
        list[str] | None, Query(description=f"{', '.join(BANDS)}; repeat or comma-separate")
    ] = None,
    source: str | None = None,
    since: Annotated[datetime | None, Query(description="ISO time; no zone = UTC")] = None,
    until: Annotated[datetime | None, Query(description="ISO time, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    after: Annotated[str | None, Query(max_length=MAX_CURSOR, description=AFTER)] = None,
) -> dict[str, Any]:
    priorities = [p for value in priority or () for p in value.split(",") if p.strip()]
    page = store.queue_page(
        status=status,
        priorities=priorities,
        source=source or None,
        since=_utc(since),
        until=_utc(until),
        limit=limit,
        offset=offset,
        after=after or None,
    )
    return {
        "items": [i.to_api() for i in page.items],
        "total": page.total,
        "total_is_estimate": page.total_is_estimate,
        "limit": limit,
        "offset": offset,
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/items/{item_id}",
    summary="One item with its verdict history",
    response_model=m.ItemDetail,
    responses=ITEM_ERRORS,
)
def get_item(item_id: ItemId, _who: Inspector, store: StoreDep) -> dict[str, Any]:
    return _item(store, item_id).to_api()


@router.get(
    "/items/{item_id}/image",
    summary="The stored original image, byte for byte",
    response_class=FileResponse,
    responses={200: m.binary(*m.IMAGE_TYPES), **ITEM_ERRORS},
)
def get_image(
    item_id: ItemId,
    _who: Inspector,
    store: StoreDep,
    display: Annotated[
        bool,
        Query(
            description="true: a format browsers show (HEIC and TIFF originals come as a "
            "full-size JPEG copy); false: the original bytes"
        ),
    ] = False,
) -> FileResponse:
    item = _item(store, item_id)
    path = store.image_path(item)
    if display:
        path = store.display_path(item) or path  # None: gone (404 below) or undecodable
    _existing(path, item_id)
    fmt = image_format(path)
    media_type = mime_of(fmt)
    filename = f"{item.sha256[:16]}{suffix_of(fmt)}"
    return FileResponse(
        path,
        media_type=media_type,
        headers={**IMMUTABLE, "Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get(
    "/items/{item_id}/thumbnail",
    summary="A JPEG thumbnail",
    response_class=FileResponse,
    responses={200: m.binary("image/jpeg"), **ITEM_ERRORS},
)
def get_thumbnail(item_id: ItemId, _who: Inspector, store: StoreDep) -> FileResponse:
    item = _item(store, item_id)
    path = store.thumbnail_path(item)  # made now if it is missing
    if path is None:
        raise HTTPException(404, f"the stored image of item {item_id} is missing")
    return FileResponse(path, media_type="image/jpeg", headers=IMMUTABLE)


@router.get(
    "/items/{item_id}/heatmap",
    summary="Heat map of where the model sees evidence, over the stored image (PNG)",
    response_class=Response,
    # 413 and 415 too: the stored image is decoded again for the model.
    responses={200: m.binary("image/png"), **error_responses(401, 403, 404, 413, 415, 422, 503)},
)
async def get_heatmap(
    item_id: ItemId, _who: Inspector, store: StoreDep, scoring: ScoringDep
) -> Response:
    def load() -> bytes:
        item = _item(store, item_id)
        return _existing(store.image_path(item), item_id).read_bytes()

    data = await anyio.to_thread.run_sync(load)
    png = await scoring.heatmap_png(data)
    # Not immutable: a reloaded model draws a different map.
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-cache"})


@router.post(
    "/items/{item_id}/verdict",
    summary="Record a verdict (the history is kept)",
    response_model=m.ItemDetail,
    responses=error_responses(401, 403, 404, 413, 422, 503),
)
def post_verdict(
    item_id: ItemId,
    body: m.VerdictIn,
    who: Inspector,
    store: StoreDep,
    similar: SimilarDep = None,
) -> dict[str, Any]:
    inspector = (body.inspector or "").strip() or who.name
    item = store.add_verdict(
        item_id,
        body.verdict,
        inspector,
        body.note,
        recorded_by=who.name,
        then=seller_service.on_verdict,  # the stored risk of its sellers, in its transaction
    )
    if similar is not None:
        # A confirmed counterfeit becomes a reference; queued items matching it move up
        # (by a bounded background job, similar/reflag.py: the answer never waits for it).
        reference = similar.on_verdict(store, item)
        if reference is not None:
            similar.reflag_later(store, reference, item)
    return item.to_api()


def _item(store: Store, item_id: str) -> ItemRecord:
    item = store.get_item(item_id)
    if item is None:
        raise ItemNotFound(f"no item with id {item_id}")
    return item


def _existing(path: Path, item_id: str) -> Path:
    if not path.is_file():
        raise HTTPException(404, f"the stored image of item {item_id} is missing")
    return path


def _utc(moment: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC (the API speaks UTC throughout)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
