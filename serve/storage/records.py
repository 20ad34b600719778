"""What the store hands out: plain dataclasses, detached from the database.

`to_api()` gives exactly the Item and Verdict shapes of the HTTP API (api/schemas/items.py), so routers
never assemble them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np


@dataclass(frozen=True)
class NewImage:
    """A scored image to save: its bytes (kept as evidence), the keyword arguments of
    rows.new_item_row, and optionally the decoded photo (the thumbnail is made from it).
    `stored`: the caller already kept the evidence files (the scoring path writes them while
    the model runs), so saving skips hashing and checking them again."""

    data: bytes
    fields: dict[str, Any]
    photo: np.ndarray | None = None
    stored: bool = False


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, e.g. 2025-01-31T08:15:00.123456Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class VerdictRecord:
    verdict: str  # "counterfeit" | "genuine" | "unsure"
    inspector: str
    note: str
    created_at: datetime  # aware, UTC
    recorded_by: str | None = None  # the API key's name that sent it (audit; not in the API)

    def to_api(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "inspector": self.inspector,
            "note": self.note,
            "created_at": iso_utc(self.created_at),
        }


@dataclass(frozen=True)
class SightingRecord:
    """The item's image submitted again from another listing, source or url."""

    listing_id: str | None
    source: str | None
    url: str | None
    created_at: datetime  # aware, UTC

    def to_api(self) -> dict[str, Any]:
        return {
            "listing_id": self.listing_id,
            "source": self.source,
            "url": self.url,
            "created_at": iso_utc(self.created_at),
        }


@dataclass(frozen=True)
class ItemRecord:
    id: str
    sha256: str
    phash: str  # 16 hex digits
    score: float
    priority: str  # "high" | "medium" | "low"
    model_version: str
    listing_id: str | None
    source: str | None
    url: str | None
    created_at: datetime  # aware, UTC
    width: int
    height: int
    status: str = "unreviewed"  # "unreviewed" | "reviewed" (any verdict, unsure included)
    verdict: VerdictRecord | None = None  # the latest one
    verdicts: list[VerdictRecord] | None = None  # full history, oldest first; None = not loaded
    sightings: list[SightingRecord] | None = None  # later submissions elsewhere; None = not loaded
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)  # (D,) float32
    # Near-duplicate fingerprint (serve/similar/fingerprint.py); None for rows older than v4.
    fingerprint: bytes | None = field(default=None, repr=False, compare=False)
    priority_reason: str | None = None  # why the priority is above the model's (similar cases)

    def to_api(self) -> dict[str, Any]:
        base = f"/v1/items/{self.id}"
        out: dict[str, Any] = {
            "id": self.id,
            "sha256": self.sha256,
            "phash": self.phash,
            "score": self.score,
            "priority": self.priority,
            "priority_reason": self.priority_reason,
            "model_version": self.model_version,
            "listing_id": self.listing_id,
            "source": self.source,
            "url": self.url,
            "created_at": iso_utc(self.created_at),
            "status": self.status,
            "verdict": self.verdict.to_api() if self.verdict else None,
            "image_url": f"{base}/image",
            "thumbnail_url": f"{base}/thumbnail",
            "heatmap_url": f"{base}/heatmap",
            "width": self.width,
            "height": self.height,
        }
        if self.verdicts is not None:
            out["verdicts"] = [v.to_api() for v in self.verdicts]
        if self.sightings is not None:
            out["sightings"] = [s.to_api() for s in self.sightings]
        return out


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, the total (`total_is_estimate`: counted up to a cap and
    estimated beyond it, storage/counting.py) and the cursor of the next page (None: last)."""

    items: list[Any]
    total: int
    total_is_estimate: bool
    next_cursor: str | None
