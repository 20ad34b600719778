"""The office's report on a generated half year (scripts/generate_half_year.py), on SQLite and
PostgreSQL: every total equals a count made directly in SQL; the xlsx opens in openpyxl with
the expected headers (Vietnamese by default, English on request); the CSV too."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import bindparam, text

from counterscan.cli import main
from counterscan.serve.cases.report import summary
from counterscan.serve.cases.report_files import HEADERS, render
from counterscan.serve.storage import Store
from counterscan.serve.storage.schema import UTCDateTime

ROOT = Path(__file__).resolve().parents[3]
HALF = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
SPRING = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))


@pytest.fixture
def half_year(db_url: str, data_dir: Path) -> Store:
    script = ROOT / "scripts" / "generate_half_year.py"
    args = ["--db", db_url, "--data-dir", str(data_dir), "--items", "120", "--seed", "3"]
    done = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    store = Store(db_url, data_dir).open()
    yield store
    store.close()


def sql(store: Store, query: str, start: datetime, end: datetime) -> list[tuple]:
    statement = text(query).bindparams(
        bindparam("a", type_=UTCDateTime()), bindparam("b", type_=UTCDateTime())
    )
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(statement, {"a": start, "b": end})]


def direct(store: Store, start: datetime, end: datetime) -> dict:
    closed = "closed_at >= :a AND closed_at < :b"
    one = {
        "items_scored": "SELECT COUNT(*) FROM items WHERE created_at >= :a AND created_at < :b",
        "items_reviewed": "SELECT COUNT(DISTINCT item_id) FROM verdicts "
        "WHERE created_at >= :a AND created_at < :b",
        "cases_opened": "SELECT COUNT(*) FROM cases WHERE created_at >= :a AND created_at < :b",
        "cases_closed": f"SELECT COUNT(*) FROM cases WHERE {closed}",
        "violations": f"SELECT COUNT(*) FROM cases WHERE {closed} AND outcome = 'violation'",
        "no_violations": f"SELECT COUNT(*) FROM cases WHERE {closed} AND outcome = 'no_violation'",
        "fines_vnd": f"SELECT COALESCE(SUM(fine_vnd), 0) FROM cases WHERE {closed}",
        "goods_value_vnd": f"SELECT COALESCE(SUM(goods_value_vnd), 0) FROM cases WHERE {closed}",
        "quantity_seized": f"SELECT COALESCE(SUM(quantity_seized), 0) FROM cases WHERE {closed}",
    }
    out = {name: int(sql(store, q, start, end)[0][0]) for name, q in one.items()}
    out["by_kind"] = dict(
        sql(
            store,
            f"SELECT violation_kind, COUNT(*) FROM cases WHERE {closed} "
            "AND outcome = 'violation' GROUP BY violation_kind",
            start,
            end,
        )
    )
    out["scored_by_source"] = dict(
        sql(
            store,
            "SELECT source, COUNT(*) FROM items WHERE created_at >= :a AND created_at < :b "
            "GROUP BY source",
            start,
            end,
        )
    )
    out["opened_by_inspector"] = dict(
        sql(
            store,
            "SELECT inspector, COUNT(*) FROM cases WHERE created_at >= :a AND created_at < :b "
            "GROUP BY inspector",
            start,
            end,
        )
    )
    return out


@pytest.mark.parametrize("period", [HALF, SPRING], ids=["half-year", "spring"])
def test_report_totals_equal_direct_sql(half_year: Store, period) -> None:
    report = summary(half_year, *period)
    want = direct(half_year, *period)
    for name in (
        "items_scored", "items_reviewed", "cases_opened", "cases_closed", "violations",
        "no_violations", "fines_vnd", "goods_value_vnd", "quantity_seized",
    ):  # fmt: skip
        assert report[name] == want[name], name
    assert {k: n for k, n in report["violations_by_kind"].items() if n} == want["by_kind"]
    assert {r["key"]: r["items_scored"] for r in report["per_source"] if r["items_scored"]} == (
        want["scored_by_source"]
    )
    opened = {r["key"]: r["cases_opened"] for r in report["per_inspector"] if r["cases_opened"]}
    assert opened == want["opened_by_inspector"]
    for part in ("per_source", "per_category", "per_inspector"):  # breakdowns add up
        for name in ("cases_opened", "cases_closed", "violations", "fines_vnd"):
            assert sum(r[name] for r in report[part]) == report[name], (part, name)
    if period == HALF:  # the generated half year is the office's: 33 inspections, 32 violations
        assert (report["cases_closed"], report["violations"]) == (33, 32)
        assert 390_000_000 <= report["fines_vnd"] <= 410_000_000
        assert 740_000_000 <= report["goods_value_vnd"] <= 760_000_000
    else:
        assert 0 < report["cases_opened"] < 35  # the period's edges count


def test_xlsx_and_csv_read_back(half_year: Store, db_url: str, data_dir: Path, tmp_path) -> None:
    argv = ["report", "--from", "2026-01-01", "--to", "2026-07-01", "--db", db_url]
    argv += ["--data-dir", str(data_dir)]
    assert main([*argv, "--out", str(tmp_path / "r.xlsx")]) == 0
    book = load_workbook(tmp_path / "r.xlsx")
    vi = HEADERS["vi"]
    assert book.sheetnames == [
        vi["sheet_total"], vi["sheet_source"], vi["sheet_category"], vi["sheet_inspector"],
        vi["sheet_kind"],
    ]  # fmt: skip
    totals = {row[0]: row[1] for row in book[vi["sheet_total"]].iter_rows(values_only=True)}
    assert totals[vi["violations"]] == 32 and totals[vi["cases_closed"]] == 33
    by_source = list(book[vi["sheet_source"]].iter_rows(values_only=True))
    assert by_source[0] == ("Nguồn", "Số ảnh đã chấm điểm", "Số ảnh đã xem xét",
                            "Số vụ việc đã mở", "Số vụ việc đã kết thúc", "Số vụ vi phạm",
                            "Tiền phạt (VNĐ)", "Giá trị hàng hóa vi phạm (VNĐ)")  # fmt: skip
    assert sum(r[6] for r in by_source[1:]) == totals[vi["fines_vnd"]]
    # The generated photos have no listing category: one row, named in words.
    by_category = list(book[vi["sheet_category"]].iter_rows(values_only=True))
    assert [r[0] for r in by_category[1:]] == ["(không có nhóm hàng)"]

    assert main([*argv, "--out", str(tmp_path / "r.xlsx"), "--lang", "en"]) == 0
    english = load_workbook(tmp_path / "r.xlsx")
    assert english.sheetnames[0] == "Summary"
    assert next(english["By inspector"].iter_rows(values_only=True))[:2] == (
        "Inspector",
        "Items scored",
    )

    assert main([*argv, "--out", str(tmp_path / "r.csv")]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text("utf-8-sig"))))
    assert rows[0][:3] == ["Phần", "Chỉ tiêu", "Số ảnh đã chấm điểm"]
    assert rows[1][0] == "Tổng" and int(rows[1][6]) == 32
    assert [r[1] for r in rows if r[0] == "Nhóm"] == ["(không có nhóm hàng)"]
    assert main([*argv, "--out", str(tmp_path / "r.pdf")]) == 2
    assert main([*argv[:2], "2026-07-01", *argv[3:], "--out", str(tmp_path / "x.csv")]) == 2


def test_render_refuses_unknown_formats() -> None:
    report = {"from": "", "to": ""}
    with pytest.raises(Exception, match="xlsx or csv"):
        render(report, "pdf")
