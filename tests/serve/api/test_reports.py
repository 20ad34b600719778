"""GET /v1/reports/summary and its download through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import load_workbook


def test_summary_and_download(
    make_client: Callable[..., Any], db_url: str, data_dir: Path, make_image
) -> None:
    client = make_client(db=db_url, data_dir=data_dir)
    r = client.post("/v1/score", files={"image": ("p", make_image("JPEG", (200, 200), seed=4))})
    item = r.json()["id"]
    case = client.post("/v1/cases", json={"title": "r", "item_ids": [item]}).json()
    url = f"/v1/cases/{case['id']}"
    client.post(f"{url}/status", json={"status": "inspecting"})
    client.post(f"{url}/status", json={"status": "violation"})
    r = client.post(
        f"{url}/close",
        json={"violation_kind": "unknown_origin", "fine_vnd": 2_500_000, "goods_value_vnd": 7},
    )
    assert r.status_code == 200, r.text

    r = client.get("/v1/reports/summary", params={"from": "2020-01-01", "to": "2100-01-01"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["from"] == "2020-01-01T00:00:00Z" and report["to"] == "2100-01-01T00:00:00Z"
    assert (report["items_scored"], report["cases_opened"], report["cases_closed"]) == (1, 1, 1)
    assert report["violations_by_kind"]["unknown_origin"] == 1
    assert (report["fines_vnd"], report["goods_value_vnd"]) == (2_500_000, 7)
    assert report["per_inspector"] == [
        {
            "key": "local",
            "items_scored": 0,
            "items_reviewed": 0,
            "cases_opened": 1,
            "cases_closed": 1,
            "violations": 1,
            "fines_vnd": 2_500_000,
            "goods_value_vnd": 7,
        }
    ]
    assert "category" in report["category_note"]
    # Default period: the last half year, up to now.
    assert client.get("/v1/reports/summary").json()["cases_opened"] == 1
    before = client.get("/v1/reports/summary", params={"from": "2020-01-01", "to": "2021-01-01"})
    assert before.json()["cases_opened"] == 0

    r = client.get("/v1/reports/summary/download", params={"from": "2020-01-01"})
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    assert "attachment" in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames[0] == "Tổng hợp"
    r = client.get("/v1/reports/summary/download", params={"format": "csv", "lang": "en"})
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.decode("utf-8-sig").startswith("Part,Measure,Items scored")

    for params, words in (
        ({"from": "yesterday"}, "from must be a date"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "must be after"),
        ({"format": "pdf"}, "format"),
    ):
        r = client.get("/v1/reports/summary/download", params=params)
        assert r.status_code == 422 and words in r.json()["detail"], r.text
