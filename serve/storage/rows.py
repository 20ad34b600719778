"""Database rows -> the records the store hands out (records.py), and the row of a newly
scored image."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from counterscan.serve.storage import queue as q
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.evidence import check_sha256
from counterscan.serve.storage.fields import check_text, new_item_id
from counterscan.serve.storage.records import ItemRecord, SightingRecord, VerdictRecord


def new_item_row(
    *,
    sha256: str,
    phash: str,
    score: float,
    priority: str,
    model_version: str,
    listing_id: str | None = None,
    source: str | None = None,
    url: str | None = None,
    width: int,
    height: int,
    embedding: np.ndarray | None = None,
    fingerprint: bytes | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The `items` row of a newly scored image, checked. Raises CounterscanError for a text
    field the store cannot keep (too long, control characters) and ValueError for what only a
    bug could produce (unknown priority, a score that is not a number). `created_at`: now,
    unless a script replays history (scripts/generate_half_year.py)."""
    check_sha256(sha256)
    if priority not in s.PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}")
    if not math.isfinite(score):
        raise ValueError(f"score is not a finite number: {score!r}")
    return {
        "id": new_item_id(),
        "created_at": created_at or datetime.now(UTC),
        "status": "unreviewed",
        "sha256": sha256,
        "phash": phash,
        "score": float(score),
        "priority": priority,
        "priority_rank": s.PRIORITY_RANK[priority],
        "model_version": check_text("model_version", model_version, required=True),
        "listing_id": check_text("listing_id", listing_id),
        "source": check_text("source", source),
        "url": check_text("url", url),
        "width": int(width),
        "height": int(height),
        "embedding": None
        if embedding is None
        else np.ascontiguousarray(embedding, dtype="<f4").reshape(-1).tobytes(),
        "fingerprint": fingerprint,
    }


def load_item(conn: Connection, item_id: str) -> ItemRecord | None:
    row = conn.execute(q.item_query().where(s.items.c.id == item_id)).mappings().first()
    if row is None:
        return None
    history = conn.execute(
        select(s.verdicts).where(s.verdicts.c.item_id == item_id).order_by(s.verdicts.c.id)
    ).mappings()
    seen = conn.execute(
        select(s.sightings).where(s.sightings.c.item_id == item_id).order_by(s.sightings.c.id)
    ).mappings()
    return replace(
        item_from_row(row, [verdict_from_row(h) for h in history]),
        sightings=[
            SightingRecord(r["listing_id"], r["source"], r["url"], r["created_at"]) for r in seen
        ],
    )


def verdict_from_row(row: Mapping[str, Any], prefix: str = "") -> VerdictRecord:
    return VerdictRecord(
        verdict=row[f"{prefix}verdict"],
        inspector=row[f"{prefix}inspector"],
        note=row[f"{prefix}note"] or "",
        created_at=row[f"{prefix}created_at"],
        recorded_by=row[f"{prefix}recorded_by"],
    )


def item_from_row(row: Mapping[str, Any], history: list[VerdictRecord] | None = None) -> ItemRecord:
    embedding = row.get("embedding")  # lists leave the vectors out (queue.LIST_COLUMNS)
    return ItemRecord(
        id=row["id"],
        sha256=row["sha256"],
        phash=row["phash"],
        score=float(row["score"]),
        priority=row["priority"],
        model_version=row["model_version"],
        listing_id=row["listing_id"],
        source=row["source"],
        url=row["url"],
        created_at=row["created_at"],
        width=int(row["width"]),
        height=int(row["height"]),
        status=row["status"],
        verdict=verdict_from_row(row, "v_") if row.get("v_verdict") else None,
        verdicts=history,
        embedding=None if embedding is None else np.frombuffer(embedding, dtype="<f4").copy(),
        fingerprint=_bytes_or_none(row.get("fingerprint")),
        priority_reason=row.get("priority_reason"),
    )


def _bytes_or_none(value: Any) -> bytes | None:
    return None if value is None else bytes(value)  # PostgreSQL hands out memoryview
