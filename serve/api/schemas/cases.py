"""The shapes of the case register and the office's report (api/routes/cases.py,
reports.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from counterscan.serve.api.schemas.items import NEXT_CURSOR, TOTAL, TOTAL_IS_ESTIMATE, Item

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
    total: int = Field(ge=0, description=TOTAL)
    total_is_estimate: bool = Field(False, description=TOTAL_IS_ESTIMATE)
    limit: int
    offset: int
    next_cursor: str | None = Field(None, description=NEXT_CURSOR)
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
