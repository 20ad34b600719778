"""The bodies of the HTTP API (notes/api.md), as Pydantic models for the OpenAPI document.

Documentation only: the routes build plain dicts (storage/records.py `to_api()`), and these
models describe them so /docs, generated clients and the schema fuzzing test
(tests/reliability/test_rel_fuzz.py, which checks every answer against this document) agree
with what the server sends. Objects accept more fields than listed, so a new field in an
answer is compatible; a field listed here must be there with the type shown.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Priority = Literal["high", "medium", "low"]


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


class BatchItemOk(ScoreResult):
    index: int = Field(ge=0)
    ok: Literal[True]


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
    similarity: float | None = Field(
        default=None, description="near_duplicate: aligned correlation; similar: embedding cosine"
    )
    distance: int | None = Field(default=None, description="exact copies: 0 (the same bytes)")
    verdict: Verdict | None = Field(description="the matched item's latest verdict")
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


class CaseDetail(Case):
    history: list[CaseEvent] = Field(description="every change, oldest first")
    items: list[Item] = Field(description="the items, as in GET /v1/items/{id}")


class CasePage(BaseModel):
    cases: list[Case]
    total: int = Field(ge=0)
    limit: int
    offset: int
    inspectors: list[str] = Field(description="every assigned inspector (for filters)")


# --- reports (serve/api/routes/reports.py, serve/offline/report.py)


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
