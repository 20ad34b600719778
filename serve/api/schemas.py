"""Every shape of the HTTP API, in one place: the request bodies, and the answers that routes
declare as `response_model=` (FastAPI builds the OpenAPI document from these).

FastAPI checks each JSON answer against its model and sends the fields listed here, so a new
field in an answer is added here first or it never leaves the server. Field order is the order
the answers have always had; a model's docstring is its description in the document. Every
error is `ErrorBody`; the statuses a route documents are on its decorator (`api.errors`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from counterscan.contract import BANDS
from counterscan.formats import MIME_TYPES, UNKNOWN_MIME
from counterscan.serve.storage.fields import MAX_LEN

Priority = Literal[BANDS]  # type: ignore[valid-type]  # "high" | "medium" | "low"


class ErrorBody(BaseModel):
    """Every error: one line naming the problem."""

    detail: str = Field(examples=["image is 31457280 bytes, more than the limit of 20971520"])


class ScoreResult(BaseModel):
    id: str = Field(description="item id: 32 lowercase hex digits")
    score: float = Field(ge=0.0, le=1.0, description="calibrated probability of a counterfeit")
    priority: Priority
    model_version: str
    sha256: str
    phash: str = Field(description="64-bit perceptual hash, 16 hex digits")
    listing_id: str | None
    source: str | None
    url: str | None
    created_at: str = Field(description="ISO-8601, UTC")
    cached: bool = Field(description="answered from the store: these bytes were scored before")
    heatmap_png_base64: str | None
    priority_reason: str | None = Field(
        default=None,
        description="why the priority is above the model's, e.g. 'matches confirmed counterfeit "
        "<id> (near-duplicate)'; null: the model's own priority",
    )
    matches: list[Any]


class BatchError(BaseModel):
    status: int = Field(ge=400, le=599)
    detail: str


class _BatchSlot(BaseModel):
    # Where a scored image sat in its batch; first in each result, as the route writes it.

    index: int = Field(ge=0)
    ok: Literal[True]


class BatchItemOk(ScoreResult, _BatchSlot):  # _BatchSlot's fields come first
    pass  # no docstring: it would become the schema's description


class BatchItemFailed(BaseModel):
    index: int = Field(ge=0)
    ok: Literal[False]
    error: BatchError


class BatchResult(BaseModel):
    results: list[BatchItemOk | BatchItemFailed] = Field(description="one per image, in order")
    model_version: str


class Verdict(BaseModel):
    verdict: Literal["counterfeit", "genuine", "unsure"]
    inspector: str
    note: str
    created_at: str


class Sighting(BaseModel):
    listing_id: str | None
    source: str | None
    url: str | None
    created_at: str


class Item(BaseModel):
    id: str
    sha256: str
    phash: str
    score: float = Field(ge=0.0, le=1.0)
    priority: Priority
    priority_reason: str | None = Field(
        default=None,
        description="why the priority is above the model's, e.g. 'matches confirmed counterfeit "
        "<id> (near-duplicate)'; null: the model's own priority",
    )
    model_version: str
    listing_id: str | None
    source: str | None
    url: str | None
    created_at: str
    status: Literal["unreviewed", "reviewed"]
    verdict: Verdict | None = Field(description="the latest verdict")
    image_url: str
    thumbnail_url: str
    heatmap_url: str
    width: int
    height: int


class ItemDetail(Item):
    verdicts: list[Verdict] = Field(description="every verdict, oldest first")
    sightings: list[Sighting] = Field(
        default_factory=list, description="the same image submitted again from elsewhere"
    )


class QueuePage(BaseModel):
    items: list[Item]
    total: int = Field(ge=0)
    limit: int
    offset: int


class SimilarMatch(BaseModel):
    """A reviewed item whose photo this one matches (serve/api/routes/similar.py)."""

    id: str = Field(description="the matched item's id")
    item_id: str
    kind: Literal["exact", "near_duplicate", "similar"]
    verdict: Verdict | None = Field(description="the matched item's latest verdict")
    # One of the two, never both: the route sends only the fields it set (exclude_unset).
    similarity: float | None = Field(
        default=None, description="near_duplicate: aligned correlation; similar: embedding cosine"
    )
    distance: int | None = Field(default=None, description="exact copies: 0 (the same bytes)")
    score: float = Field(ge=0.0, le=1.0)
    priority: Priority
    listing_id: str | None
    source: str | None
    thumbnail_url: str
    image_url: str
    created_at: str


class SimilarCases(BaseModel):
    matches: list[SimilarMatch] = Field(
        description="strongest first: exact, near_duplicate, similar"
    )


class Thresholds(BaseModel):
    high: float
    low: float


class ModelInfo(BaseModel):
    """The model contract (ONNX metadata) and when and from what file it was loaded."""

    model_version: str
    input_size: int
    backbone: str
    label_names: list[str]
    temperature: float
    thresholds: Thresholds
    manifest_sha256: str
    metrics: dict[str, Any]
    created_at: str
    embedding_dim: int
    cam_size: int
    contract_version: str
    extra: dict[str, Any]
    loaded_at: str
    file_sha256: str


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    model_version: str


class NotReady(BaseModel):
    status: Literal["not ready"]
    detail: str


class ListingReason(BaseModel):
    signal: Literal["known_counterfeit", "low_price", "contact_details", "disguised_brand"]
    detail: str


class SellerLink(BaseModel):
    source: str
    seller_id: str
    risk: float = Field(ge=0.0, le=1.0, description="the linked seller's risk without links")
    why: list[str] = Field(description='e.g. "same phone 0912345678", "same photo <sha256>"')


class Seller(BaseModel):
    """A seller (source, seller_id) with its risk (sellers/risk.py) and the reasons for it."""

    source: str = Field(description='the platform; "" when the crawler sent none')
    seller_id: str
    name: str | None
    risk: float = Field(ge=0.0, le=1.0)
    reasons: list[str] = Field(description="the evidence behind the risk, strongest first")
    listings: int = Field(ge=0)
    high_listings: int = Field(ge=0, description="listings with a photo at priority high")
    confirmed_counterfeit: int = Field(ge=0, description="photos confirmed counterfeit")
    linked: list[SellerLink]
    first_seen: str
    last_seen: str


class SellerPage(BaseModel):
    sellers: list[Seller]
    total: int = Field(ge=0)
    limit: int
    offset: int


class Listing(BaseModel):
    source: str
    listing_id: str
    url: str | None
    title: str | None
    price: float | None = Field(description="VND")
    category: str | None
    score: float = Field(ge=0.0, le=1.0, description="the highest score of its photos")
    reasons: list[ListingReason]
    item_ids: list[str] = Field(description="its photos (GET /v1/items/{id})")
    last_seen: str


class SellerDetail(Seller):
    listing_details: list[Listing] = Field(description="its listings, newest first")


class TrendDay(BaseModel):
    day: str = Field(description="YYYY-MM-DD, UTC")
    scored: int = Field(ge=0, description="items scored that day")
    high: int = Field(ge=0, description="of those, at priority high now")
    counterfeit: int = Field(ge=0, description="verdicts counterfeit given that day")


class Trends(BaseModel):
    """Per day, oldest first, every day of the window (zeros included)."""

    days: int
    overall: list[TrendDay]
    by_source: dict[str, list[TrendDay]] = Field(description='"" for items without a source')
    by_category: dict[str, list[TrendDay]] = Field(
        description="by the category of the listing the photo belongs to"
    )


class Alert(BaseModel):
    """An early warning (sellers/alerts.py documents each rule), raised once."""

    id: str = Field(description="32 lowercase hex digits; receivers dedupe by it")
    kind: Literal["known_counterfeit", "seller_repeat", "linked_seller", "surge"]
    created_at: str
    source: str | None
    seller_id: str | None
    item_ids: list[str]
    detail: dict[str, Any] = Field(description="the rule and its numbers")
    acknowledged: bool
    acknowledged_by: str | None


class AlertPage(BaseModel):
    alerts: list[Alert] = Field(description="newest first")
    total: int = Field(ge=0)
    limit: int
    offset: int


# ---------------------------------------------------------------------------- request bodies


class VerdictIn(BaseModel):
    verdict: Literal["counterfeit", "genuine", "unsure"]
    note: str = Field("", max_length=MAX_LEN["note"])
    inspector: str | None = Field(
        None, max_length=MAX_LEN["inspector"], description="defaults to the API key's name"
    )


class ReloadRequest(BaseModel):
    path: str | None = Field(None, description="ONNX file to serve; default: the current file")


# The optional text of each scored image (POST /v1/score form fields, batch fields and keys).
# listing_id, source, url: where the photo was found; the rest describe its listing and seller
# (sellers/: a listing (source, listing_id) gathers its photos, a seller (source, seller_id)).
TEXT_FIELDS = (
    "listing_id", "source", "url", "seller_id", "seller_name", "title", "text", "category",
)  # fmt: skip
NUMBER_FIELDS = ("price",)  # VND

# POST /v1/score/batch reads its body itself (two encodings; a bad image marks only its own
# result), so FastAPI cannot see the body: the route attaches this as `openapi_extra`.
BATCH_REQUEST = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "images": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                        **{f: {"type": "array", "items": {"type": "string"}} for f in TEXT_FIELDS},
                        "price": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["images"],
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "image_base64": {"type": "string"},
                                    **{f: {"type": "string"} for f in TEXT_FIELDS},
                                    "price": {"type": "number", "minimum": 0},
                                },
                                "required": ["image_base64"],
                            },
                        }
                    },
                    "required": ["items"],
                }
            },
        },
    }
}


# ---------------------------------------------------------------------------- binary answers

IMAGE_TYPES = (*MIME_TYPES, UNKNOWN_MIME)  # what a stored original can be served as


def binary(*media_types: str) -> dict[str, Any]:
    """A 200 answer of raw bytes (an image), for a route's `responses=`."""
    schema = {"schema": {"type": "string", "format": "binary"}}
    return {"content": dict.fromkeys(media_types, schema)}


# --- cases (serve/api/routes/cases.py, storage/cases.py)

CaseStatus = Literal["open", "inspecting", "violation", "no_violation", "closed"]
ViolationKind = Literal[
    "counterfeit_goods", "smuggled_goods", "ip_infringement", "unknown_origin", "other"
]


class CaseEvent(BaseModel):
    """One line of a case's history: who did what, when."""

    kind: str = Field(
        description="created, status, note, assigned, item_added, item_removed, closed, "
        "evidence_download"
    )
    actor: str = Field(description="the API key's name that did it")
    created_at: str = Field(description="ISO-8601, UTC")
    from_status: CaseStatus | None
    to_status: CaseStatus | None
    item_id: str | None
    note: str


class Case(BaseModel):
    id: int
    title: str
    inspector: str | None = Field(description="the assigned inspector")
    status: CaseStatus
    outcome: Literal["violation", "no_violation"] | None
    violation_kind: ViolationKind | None
    fine_vnd: int | None
    goods_value_vnd: int | None
    quantity_seized: int | None
    created_by: str
    created_at: str
    updated_at: str
    closed_at: str | None
    item_ids: list[str] = Field(description="the items in the case, in the order added")
    allowed_status: list[CaseStatus] = Field(description="where POST .../status may move it")


class CaseSeller(BaseModel):
    """A seller linked to a case: one of its items belongs to a listing of this seller."""

    source: str = Field(description='the platform; "" when the crawler sent none')
    seller_id: str
    name: str | None


class CaseDetail(Case):
    history: list[CaseEvent] = Field(description="every change, oldest first")
    items: list[Item] = Field(description="the items, as in GET /v1/items/{id}")
    sellers: list[CaseSeller] = Field(
        description="the distinct sellers of the listings its items belong to "
        "(GET /v1/sellers/{source}/{seller_id})"
    )


class CasePage(BaseModel):
    cases: list[Case]
    total: int = Field(ge=0)
    limit: int
    offset: int
    inspectors: list[str] = Field(description="every assigned inspector (for filters)")


# --- reports (serve/api/routes/reports.py, serve/cases/report.py)


class ReportRow(BaseModel):
    """One row of a breakdown (per source, category or inspector)."""

    key: str
    items_scored: int
    items_reviewed: int
    cases_opened: int
    cases_closed: int
    violations: int
    fines_vnd: int
    goods_value_vnd: int


class ReportSummary(BaseModel):
    period_from: str = Field(alias="from", description="ISO-8601, UTC, inclusive")
    period_to: str = Field(alias="to", description="ISO-8601, UTC, exclusive")
    items_scored: int
    items_reviewed: int
    cases_opened: int
    cases_closed: int
    violations: int
    no_violations: int
    violations_by_kind: dict[str, int]
    fines_vnd: int
    goods_value_vnd: int
    quantity_seized: int
    per_source: list[ReportRow]
    per_category: list[ReportRow]
    per_inspector: list[ReportRow]
    category_note: str = Field(description="what 'category' means in this database")

    model_config = {"populate_by_name": True}
