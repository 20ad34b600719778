"""The office's report (role: inspector; admins too; crawlers get 403).

GET /v1/reports/summary?from=...&to=...                     the numbers (JSON)
GET /v1/reports/summary/download?from&to&format=xlsx|csv&lang=vi|en   the spreadsheet

`from` and `to` are dates or ISO times (no zone = UTC); `to` is exclusive. Without them: the
last 182 days up to now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import StoreDep
from counterscan.serve.api.errors import error_responses
from counterscan.serve.api.routes.items import Inspector
from counterscan.serve.cases.report import parse_moment, summary
from counterscan.serve.cases.report_files import render

router = APIRouter(prefix="/v1/reports", tags=["reports"])

From = Annotated[
    str | None, Query(alias="from", max_length=40, description="date or ISO time, inclusive")
]
To = Annotated[str | None, Query(alias="to", max_length=40, description="exclusive")]
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@router.get(
    "/summary",
    summary="The office's report for a period",
    response_model=m.ReportSummary,
    response_model_by_alias=True,
    responses=error_responses(401, 403, 422, 503),
)
def get_summary(
    _who: Inspector, store: StoreDep, start: From = None, end: To = None
) -> dict[str, Any]:
    return summary(store, *_period(start, end))


@router.get(
    "/summary/download",
    summary="The report as a spreadsheet (xlsx) or CSV",
    response_class=Response,
    responses={
        200: m.binary(MEDIA["xlsx"], "text/csv"),
        **error_responses(401, 403, 422, 503),
    },
)
def download_summary(
    _who: Inspector,
    store: StoreDep,
    start: From = None,
    end: To = None,
    format: Literal["xlsx", "csv"] = "xlsx",
    lang: Literal["vi", "en"] = "vi",
) -> Response:
    begin, finish = _period(start, end)
    data = render(summary(store, begin, finish), format, lang)
    name = f"report-{begin:%Y%m%d}-{finish:%Y%m%d}.{format}"
    return Response(
        data,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _period(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    finish = parse_moment(end, "to") if end else datetime.now(UTC)
    begin = parse_moment(start, "from") if start else finish - timedelta(days=182)
    return begin, finish
