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


def test_per_category_is_the_listing_category(
    make_client: Callable[..., Any], db_url: str, data_dir: Path, make_image
) -> None:
    """A photo counts under its listing's category, a case under its first photo's; photos
    without a listing or category, and cases opened from them, under "" (no category)."""
    client = make_client(db=db_url, data_dir=data_dir)

    def photo(seed: int, **form: str) -> str:
        image = {"image": ("p", make_image("JPEG", (200, 200), seed=seed))}
        r = client.post("/v1/score", files=image, data=form)
        assert r.status_code == 200, r.text
        return r.json()["id"]

    loose = photo(43)  # scored first: the first item of a case opened with it and another
    tea = photo(41, listing_id="L-1", source="shopee", category="chè Thái Nguyên")
    bare = photo(42, listing_id="L-2", source="shopee")
    r = client.post(f"/v1/items/{tea}/verdict", json={"verdict": "counterfeit"})
    assert r.status_code == 200, r.text
    for title, items in (("tea", [tea]), ("bare first", [loose, tea]), ("bare", [bare])):
        r = client.post("/v1/cases", json={"title": title, "item_ids": items})
        assert r.status_code == 201, r.text

    r = client.get("/v1/reports/summary", params={"from": "2020-01-01", "to": "2100-01-01"})
    assert r.status_code == 200, r.text
    rows = {row["key"]: row for row in r.json()["per_category"]}
    assert set(rows) == {"", "chè Thái Nguyên"}
    counts = {
        k: (v["items_scored"], v["items_reviewed"], v["cases_opened"]) for k, v in rows.items()
    }
    assert counts == {"chè Thái Nguyên": (1, 1, 1), "": (2, 0, 2)}
    assert '"" = no category' in r.json()["category_note"]
