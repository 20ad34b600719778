"""Alerts as rows: raised once per `dedupe_key` (a second raise of the same key is a no-op,
also when two requests raise it at once), listed newest first, acknowledged."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from counterscan.serve.storage import schema as s
from counterscan.serve.storage.fields import is_item_id, new_item_id
from counterscan.serve.storage.listings import _insert_ignore
from counterscan.serve.storage.records import iso_utc

KINDS = ("known_counterfeit", "seller_repeat", "linked_seller", "surge")


def raise_alert(
    conn: Connection,
    kind: str,
    dedupe_key: str,
    *,
    now: datetime,
    source: str | None = None,
    seller_id: str | None = None,
    item_ids: list[str] | None = None,
    detail: dict[str, Any],
) -> bool:
    """Store the alert unless its key was raised before. Returns whether it is new."""
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    t = s.alerts.c
    key = f"{kind}:{dedupe_key}"[:800]
    if conn.execute(select(t.id).where(t.dedupe_key == key)).first() is not None:
        return False
    row = {
        "id": new_item_id(),
        "kind": kind,
        "dedupe_key": key,
        "created_at": now,
        "source": source,
        "seller_id": seller_id,
        "item_ids": json.dumps(item_ids or []),
        "detail": json.dumps({"rule": kind, **detail}, ensure_ascii=False),
    }
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    added = maker(s.alerts).values(**row).on_conflict_do_nothing().returning(s.alerts.c.id)
    if conn.execute(added).first() is None:
        return False  # raised at this moment by another request or server (PostgreSQL)
    # The webhook outbox (sellers/webhook.py), in the same transaction: none is ever lost.
    _insert_ignore(
        conn, s.alert_outbox, {"alert_id": row["id"], "attempts": 0, "next_attempt_at": now}
    )
    return True


def to_api(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "created_at": iso_utc(row.created_at),
        "source": row.source,
        "seller_id": row.seller_id,
        "item_ids": json.loads(row.item_ids),
        "detail": json.loads(row.detail),
        "acknowledged": row.acknowledged_at is not None,
        "acknowledged_by": row.acknowledged_by,
    }


def list_alerts(
    conn: Connection, *, acknowledged: bool | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    t = s.alerts.c
    where = []
    if acknowledged is not None:
        where.append(
            t.acknowledged_at.is_not(None) if acknowledged else t.acknowledged_at.is_(None)
        )
    total = conn.execute(select(func.count()).select_from(s.alerts).where(*where)).scalar_one()
    rows = conn.execute(
        select(s.alerts)
        .where(*where)
        .order_by(t.created_at.desc(), t.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [to_api(r) for r in rows], int(total)


def acknowledge(conn: Connection, alert_id: str, who: str, now: datetime) -> dict[str, Any] | None:
    """Mark it acknowledged (the first acknowledgement is kept); None for an unknown id."""
    if not is_item_id(alert_id):
        return None
    t = s.alerts.c
    conn.execute(
        update(s.alerts)
        .where(t.id == alert_id, t.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by=who[:128])
    )
    row = conn.execute(select(s.alerts).where(t.id == alert_id)).first()
    return to_api(row) if row is not None else None
