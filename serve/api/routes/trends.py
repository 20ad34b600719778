"""GET /v1/trends?days=N: per UTC day, items scored, items at priority high and verdicts
counterfeit; overall, per source and per category (role: inspector; admins too).
Counting rules: storage/trends.py."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query

from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import StoreDep
from counterscan.serve.api.errors import error_responses
from counterscan.serve.api.security import Principal, require_role
from counterscan.serve.storage import Store
from counterscan.serve.storage.trends import MAX_DAYS, all_kept, roll_up, trends

router = APIRouter(prefix="/v1", tags=["sellers"])


@router.get(
    "/trends",
    summary="Per-day counts: scored, high, counterfeit",
    response_model=m.Trends,
    responses=error_responses(401, 403, 422, 503),
)
async def get_trends(
    _who: Annotated[Principal, require_role("inspector")],
    store: StoreDep,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(_read, store, days)


def _read(store: Store, days: int) -> dict[str, Any]:
    with store.read() as conn:
        if all_kept(conn, days):
            return trends(conn, days)
    with store.write() as conn:  # past days are counted once, then kept (storage/trends.py)
        roll_up(conn, days)
    with store.read() as conn:
        return trends(conn, days)
