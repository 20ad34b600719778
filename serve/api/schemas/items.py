"""The shapes of scoring, items, similar cases, the model and operations; the request
bodies; binary answers. See the package docstring."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from counterscan.contract import BANDS
from counterscan.formats import MIME_TYPES, UNKNOWN_MIME
from counterscan.serve.storage.counting import EXACT_UP_TO
from counterscan.serve.storage.fields import MAX_LEN

Priority = Literal[BANDS]  # type: ignore[valid-type]  # "high" | "medium" | "low"


# Every paged list (queue, cases) says the same about its total and its cursor.
TOTAL = f"matching rows: exact up to {EXACT_UP_TO:,}, estimated beyond (total_is_estimate)"
TOTAL_IS_ESTIMATE = "true: total is the database's estimate, not a count"
NEXT_CURSOR = "pass as `after` for the next page; null: this is the last page"


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
    total: int = Field(ge=0, description=TOTAL)
    total_is_estimate: bool = Field(False, description=TOTAL_IS_ESTIMATE)
    limit: int
    offset: int
    next_cursor: str | None = Field(None, description=NEXT_CURSOR)


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
