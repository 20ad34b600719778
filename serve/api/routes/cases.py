"""The case register over HTTP (role: inspector; admins too; crawlers get 403).

POST   /v1/cases                          open a case from items and/or a seller -> 201
GET    /v1/cases                          list; filters status (or "active"), inspector, item_id;
                                          paged by cursor (`after`) or offset
GET    /v1/cases/{id}                     the case with its items and history
PATCH  /v1/cases/{id}                     rename, assign to another inspector
POST   /v1/cases/{id}/status              open -> inspecting -> violation | no_violation
POST   /v1/cases/{id}/close               the outcome (kind, fine, goods value, quantity)
POST   /v1/cases/{id}/notes               add a note
POST   /v1/cases/{id}/items               add items
DELETE /v1/cases/{id}/items/{item_id}     remove an item
GET    /v1/cases/{id}/evidence            the signed evidence package (ZIP), logged

Who did it is always the API key's name (the history is an audit trail, so it is not a field
the caller may fill in); the assigned inspector is a field of its own.
"""

from __future__ import annotations

import os
import tempfile
from functools import partial
from typing import Annotated, Any, Literal

import anyio.from_thread
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, model_validator
from starlette.background import BackgroundTask

from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import SettingsDep, StoreDep
from counterscan.serve.api.errors import error_responses
from counterscan.serve.api.routes.items import AFTER, Inspector, ItemId
from counterscan.serve.cases.evidence import build_package, load_private_key, similar_finder
from counterscan.serve.similar.service import SimilarDep
from counterscan.serve.storage import Store
from counterscan.serve.storage.case_records import CaseRecord
from counterscan.serve.storage.case_rows import MAX_ITEMS_PER_CALL, MAX_TITLE
from counterscan.serve.storage.cases import MAX_VND
from counterscan.serve.storage.cursor import MAX_CURSOR
from counterscan.serve.storage.fields import ITEM_ID_RE, MAX_LEN
from counterscan.serve.storage.queue import MAX_LIMIT, MAX_OFFSET

router = APIRouter(prefix="/v1/cases", tags=["cases"])

CaseId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="case id")]
ItemIds = Annotated[
    list[Annotated[str, Field(pattern=ITEM_ID_RE.pattern)]],
    Field(max_length=MAX_ITEMS_PER_CALL),
]
Note = Annotated[str, Field(max_length=MAX_LEN["note"])]
Vnd = Annotated[int | None, Field(ge=0, le=MAX_VND)]
# Every case route needs an inspector's key (401, 403) and the database (503); validates what
# it is sent (422), a body may be over the limit (413); 404 names an unknown case or item; 409
# is a step the case's status does not allow.
READ = error_responses(401, 403, 422, 503)
ONE = error_responses(401, 403, 404, 422, 503)
EDIT = error_responses(401, 403, 404, 413, 422, 503)
STEP = error_responses(401, 403, 404, 409, 413, 422, 503)


class SellerRef(BaseModel):
    """A seller as GET /v1/sellers names it."""

    source: str = Field("", max_length=MAX_LEN["source"], description='"" when none was sent')
    seller_id: str = Field(min_length=1, max_length=MAX_LEN["seller_id"])


class CaseIn(BaseModel):
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    item_ids: ItemIds = Field(default_factory=list)
    seller: SellerRef | None = Field(
        None, description="every item of this seller's listings joins the case, besides item_ids"
    )
    inspector: str | None = Field(
        None, max_length=MAX_LEN["inspector"], description="assigned; default: the key's name"
    )
    note: Note = ""

    @model_validator(mode="after")
    def _items_or_seller(self) -> CaseIn:
        if not self.item_ids and self.seller is None:
            raise ValueError("a case is opened from item_ids, a seller, or both")
        return self


class CaseUpdateIn(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=MAX_TITLE)
    inspector: str | None = Field(None, min_length=1, max_length=MAX_LEN["inspector"])


class StatusIn(BaseModel):
    status: Literal["open", "inspecting", "violation", "no_violation"]
    note: Note = ""


class CloseIn(BaseModel):
    violation_kind: m.ViolationKind | None = None
    fine_vnd: Vnd = None
    goods_value_vnd: Vnd = None
    quantity_seized: Vnd = None
    note: Note = ""


class NoteIn(BaseModel):
    note: Note = Field(min_length=1)


class ItemsIn(BaseModel):
    item_ids: ItemIds = Field(min_length=1)


@router.post(
    "",
    summary="Open a case from items or a seller",
    status_code=201,
    response_model=m.CaseDetail,
    responses=EDIT,  # 404: an item id or a seller that is not stored
)
def create_case(body: CaseIn, who: Inspector, store: StoreDep) -> dict[str, Any]:
    seller = (body.seller.source, body.seller.seller_id) if body.seller else None
    case = store.cases.create(
        body.title,
        body.item_ids,
        actor=who.name,
        inspector=body.inspector,
        note=body.note,
        seller=seller,
    )
    return detail(store, case)


@router.get("", summary="Cases, newest first", response_model=m.CasePage, responses=READ)
def list_cases(
    _who: Inspector,
    store: StoreDep,
    status: Annotated[
        Literal["open", "inspecting", "violation", "no_violation", "closed", "active"] | None,
        Query(description="one status, or active: every status but closed"),
    ] = None,
    inspector: Annotated[str | None, Query(max_length=MAX_LEN["inspector"])] = None,
    item_id: Annotated[str | None, Query(pattern=ITEM_ID_RE.pattern)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    after: Annotated[str | None, Query(max_length=MAX_CURSOR, description=AFTER)] = None,
) -> dict[str, Any]:
    page = store.cases.page(status, inspector or None, item_id, limit, offset, after or None)
    return {
        "cases": [c.to_api() for c in page.items],
        "total": page.total,
        "total_is_estimate": page.total_is_estimate,
        "limit": limit,
        "offset": offset,
        "next_cursor": page.next_cursor,
        "inspectors": store.cases.inspectors(),
    }


@router.get(
    "/{case_id}",
    summary="A case with its items and history",
    response_model=m.CaseDetail,
    responses=ONE,
)
def get_case(case_id: CaseId, _who: Inspector, store: StoreDep) -> dict[str, Any]:
    return detail(store, store.cases.get(case_id))


@router.patch(
    "/{case_id}", summary="Rename or reassign a case", response_model=m.CaseDetail, responses=EDIT
)
def update_case(
    case_id: CaseId, body: CaseUpdateIn, who: Inspector, store: StoreDep
) -> dict[str, Any]:
    case = store.cases.update(case_id, actor=who.name, title=body.title, inspector=body.inspector)
    return detail(store, case)


@router.post(
    "/{case_id}/status",
    summary="Move a case along its workflow",
    response_model=m.CaseDetail,
    responses=STEP,
)
def set_status(case_id: CaseId, body: StatusIn, who: Inspector, store: StoreDep) -> dict[str, Any]:
    case = store.cases.set_status(case_id, body.status, actor=who.name, note=body.note)
    return detail(store, case)


@router.post(
    "/{case_id}/close",
    summary="Record the outcome and close the case",
    response_model=m.CaseDetail,
    responses=STEP,
)
def close_case(case_id: CaseId, body: CloseIn, who: Inspector, store: StoreDep) -> dict[str, Any]:
    case = store.cases.close(
        case_id,
        actor=who.name,
        violation_kind=body.violation_kind,
        fine_vnd=body.fine_vnd,
        goods_value_vnd=body.goods_value_vnd,
        quantity_seized=body.quantity_seized,
        note=body.note,
    )
    return detail(store, case)


@router.post("/{case_id}/notes", summary="Add a note", response_model=m.CaseDetail, responses=EDIT)
def add_note(case_id: CaseId, body: NoteIn, who: Inspector, store: StoreDep) -> dict[str, Any]:
    return detail(store, store.cases.add_note(case_id, body.note, actor=who.name))


@router.post("/{case_id}/items", summary="Add items", response_model=m.CaseDetail, responses=STEP)
def add_items(case_id: CaseId, body: ItemsIn, who: Inspector, store: StoreDep) -> dict[str, Any]:
    return detail(store, store.cases.add_items(case_id, body.item_ids, actor=who.name))


@router.delete(
    "/{case_id}/items/{item_id}",
    summary="Remove an item (it goes back to the queue)",
    response_model=m.CaseDetail,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def remove_item(case_id: CaseId, item_id: ItemId, who: Inspector, store: StoreDep) -> Any:
    return detail(store, store.cases.remove_item(case_id, item_id, actor=who.name))


@router.get(
    "/{case_id}/evidence",
    summary="The signed evidence package (ZIP); the download is logged in the case history",
    response_class=FileResponse,
    responses={200: m.binary("application/zip"), **ONE},  # 503 also: no signing key set
)
def get_evidence(
    case_id: CaseId,
    who: Inspector,
    store: StoreDep,
    settings: SettingsDep,
    request: Request,
    lang: Literal["vi", "en"] = "vi",
    similar: SimilarDep = None,
) -> FileResponse:
    if settings.evidence_key is None:
        raise HTTPException(
            503,
            "evidence packages are signed and no signing key is set: set COUNTERSCAN_EVIDENCE_KEY "
            "to a key file made by `counterscan evidence keygen`",
        )
    store.cases.get(case_id)  # 404 before any work
    key = load_private_key(settings.evidence_key)
    model = getattr(request.app.state, "model", None)
    scoring = getattr(request.app.state, "scoring", None)
    ready = model is not None and model.ready and scoring is not None
    # On disk, not in memory: a case may hold many full-size photos.
    fd, name = tempfile.mkstemp(prefix="counterscan-evidence-", suffix=".zip")
    try:
        with os.fdopen(fd, "wb") as out:
            build_package(
                store,
                case_id,
                key,
                actor=who.name,
                lang=lang,
                heatmap=partial(anyio.from_thread.run, scoring.heatmap_png) if ready else None,
                similar=similar_finder(similar, store),
                model_note="" if ready else "the model is not loaded",
                out=out,
            )
    except BaseException:
        os.unlink(name)
        raise
    return FileResponse(
        name,
        media_type="application/zip",
        filename=f"case-{case_id}-evidence.zip",
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(os.unlink, name),
    )


def detail(store: Store, case: CaseRecord) -> dict[str, Any]:
    """The case as the API shows it, with its items (gone ones left out) and the sellers of
    the listings they belong to."""
    out = case.to_api()
    items = (store.get_item(i) for i in case.item_ids)
    out["items"] = [i.to_api() for i in items if i is not None]
    out["sellers"] = store.cases.links(case.item_ids)[1]
    return out
