"""Early warnings (role: inspector; admins too).

GET  /v1/alerts               newest first; acknowledged=true|false filters; paged
POST /v1/alerts/{id}/ack      acknowledge (the first acknowledgement is kept) -> the alert

The rules that raise them: counterscan.serve.sellers.alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import StoreDep
from counterscan.serve.api.errors import error_responses
from counterscan.serve.api.security import Principal, require_role
from counterscan.serve.storage.alerts import acknowledge, list_alerts
from counterscan.serve.storage.queue import MAX_LIMIT, MAX_OFFSET

router = APIRouter(prefix="/v1", tags=["sellers"])
Inspector = Annotated[Principal, require_role("inspector")]


@router.get(
    "/alerts",
    summary="Early warnings, newest first",
    response_model=m.AlertPage,
    responses=error_responses(401, 403, 422, 503),
)
def get_alerts(
    _who: Inspector,
    store: StoreDep,
    acknowledged: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    with store.read() as conn:
        found, total = list_alerts(conn, acknowledged=acknowledged, limit=limit, offset=offset)
    return {"alerts": found, "total": total, "limit": limit, "offset": offset}


@router.post(
    "/alerts/{alert_id}/ack",
    summary="Acknowledge an alert",
    response_model=m.Alert,
    responses=error_responses(401, 403, 404, 413, 422, 503),
)
def ack_alert(alert_id: str, who: Inspector, store: StoreDep) -> dict[str, Any]:
    with store.write() as conn:
        alert = acknowledge(conn, alert_id, who.name, datetime.now(UTC))
    if alert is None:
        raise HTTPException(404, f"no alert with id {alert_id!r}")
    return alert
