"""What the case register hands out: plain dataclasses with the API's shapes (`to_api()`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from counterscan.serve.storage.records import iso_utc

# Allowed status changes (POST /v1/cases/{id}/status); "closed" only through close(), which
# carries the outcome. A finding may go back to "inspecting" before the case is closed.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("inspecting",),
    "inspecting": ("violation", "no_violation", "open"),
    "violation": ("inspecting",),
    "no_violation": ("inspecting",),
    "closed": (),
}
OPEN_STATUSES = ("open", "inspecting", "violation", "no_violation")
# Case outcomes as training labels: the strongest label an item can get (verdict_export.py).
COUNTERFEIT_KINDS = ("counterfeit_goods", "ip_infringement")


@dataclass(frozen=True)
class CaseEvent:
    """One line of a case's history (appended, never changed)."""

    kind: str  # created | status | note | assigned | item_added | item_removed | closed | ...
    actor: str
    created_at: datetime
    from_status: str | None = None
    to_status: str | None = None
    item_id: str | None = None
    note: str = ""

    def to_api(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "actor": self.actor,
            "created_at": iso_utc(self.created_at),
            "from_status": self.from_status,
            "to_status": self.to_status,
            "item_id": self.item_id,
            "note": self.note,
        }


@dataclass(frozen=True)
class CaseRecord:
    id: int
    title: str
    inspector: str | None
    status: str
    outcome: str | None
    violation_kind: str | None
    fine_vnd: int | None
    goods_value_vnd: int | None
    quantity_seized: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    item_ids: list[str] = field(default_factory=list)
    history: list[CaseEvent] | None = None  # None = not loaded (lists)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def training_label(self) -> str | None:
        """counterfeit / genuine from a closed case's outcome, None when it says neither."""
        if self.status != "closed":
            return None
        if self.outcome == "no_violation":
            return "genuine"
        if self.outcome == "violation" and self.violation_kind in COUNTERFEIT_KINDS:
            return "counterfeit"
        return None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "inspector": self.inspector,
            "status": self.status,
            "outcome": self.outcome,
            "violation_kind": self.violation_kind,
            "fine_vnd": self.fine_vnd,
            "goods_value_vnd": self.goods_value_vnd,
            "quantity_seized": self.quantity_seized,
            "created_by": self.created_by,
            "created_at": iso_utc(self.created_at),
            "updated_at": iso_utc(self.updated_at),
            "closed_at": iso_utc(self.closed_at) if self.closed_at else None,
            "item_ids": list(self.item_ids),
            "allowed_status": list(TRANSITIONS[self.status]),
        }
        if self.history is not None:
            out["history"] = [e.to_api() for e in self.history]
        return out
