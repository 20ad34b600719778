"""The report as a spreadsheet (.xlsx, openpyxl) or CSV, headers in Vietnamese or English.

xlsx: one sheet of totals, then one per breakdown (source, category, inspector, violation kind).
csv: one table; the first column names the part (total, source, category, inspector, kind).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from counterscan.errors import CounterscanError
from counterscan.serve.cases.report import ROW_FIELDS

HEADERS = {
    "vi": {
        "items_scored": "Số ảnh đã chấm điểm",
        "items_reviewed": "Số ảnh đã xem xét",
        "cases_opened": "Số vụ việc đã mở",
        "cases_closed": "Số vụ việc đã kết thúc",
        "violations": "Số vụ vi phạm",
        "no_violations": "Số vụ không vi phạm",
        "fines_vnd": "Tiền phạt (VNĐ)",
        "goods_value_vnd": "Giá trị hàng hóa vi phạm (VNĐ)",
        "quantity_seized": "Số lượng hàng tạm giữ",
        "source": "Nguồn",
        "category": "Nhóm",
        "no_category": "(không có nhóm hàng)",
        "inspector": "Cán bộ",
        "kind": "Loại vi phạm",
        "count": "Số vụ",
        "measure": "Chỉ tiêu",
        "value": "Giá trị",
        "part": "Phần",
        "total": "Tổng",
        "from": "Từ ngày",
        "to": "Đến ngày",
        "note": "Ghi chú",
        "sheet_total": "Tổng hợp",
        "sheet_source": "Theo nguồn",
        "sheet_category": "Theo nhóm",
        "sheet_inspector": "Theo cán bộ",
        "sheet_kind": "Theo loại vi phạm",
        "counterfeit_goods": "Hàng giả",
        "smuggled_goods": "Hàng nhập lậu",
        "ip_infringement": "Xâm phạm sở hữu trí tuệ",
        "unknown_origin": "Không rõ nguồn gốc",
        "other": "Khác",
    },
    "en": {
        "items_scored": "Items scored",
        "items_reviewed": "Items reviewed",
        "cases_opened": "Cases opened",
        "cases_closed": "Cases closed",
        "violations": "Violations",
        "no_violations": "No violation",
        "fines_vnd": "Fines (VND)",
        "goods_value_vnd": "Goods value (VND)",
        "quantity_seized": "Quantity seized",
        "source": "Source",
        "category": "Category",
        "no_category": "(no category)",
        "inspector": "Inspector",
        "kind": "Violation kind",
        "count": "Cases",
        "measure": "Measure",
        "value": "Value",
        "part": "Part",
        "total": "Total",
        "from": "From",
        "to": "To",
        "note": "Note",
        "sheet_total": "Summary",
        "sheet_source": "By source",
        "sheet_category": "By category",
        "sheet_inspector": "By inspector",
        "sheet_kind": "By violation kind",
        "counterfeit_goods": "Counterfeit goods",
        "smuggled_goods": "Smuggled goods",
        "ip_infringement": "IP infringement",
        "unknown_origin": "Unknown origin",
        "other": "Other",
    },
}
TOTALS = (
    "items_scored", "items_reviewed", "cases_opened", "cases_closed", "violations",
    "no_violations", "fines_vnd", "goods_value_vnd", "quantity_seized",
)  # fmt: skip
BREAKDOWNS = (
    ("source", "per_source"),
    ("category", "per_category"),
    ("inspector", "per_inspector"),
)
FORMATS = ("xlsx", "csv")


def render(report: dict[str, Any], fmt: str, lang: str = "vi") -> bytes:
    if lang not in HEADERS:
        raise CounterscanError(f"language must be vi or en, not {lang!r}")
    if fmt == "xlsx":
        return _xlsx(report, HEADERS[lang])
    if fmt == "csv":
        return _csv(report, HEADERS[lang])
    raise CounterscanError(f"report format must be xlsx or csv, not {fmt!r}")


def _xlsx(report: dict[str, Any], h: dict[str, str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = h["sheet_total"]
    sheet.append([h["measure"], h["value"]])
    sheet.append([h["from"], report["from"]])
    sheet.append([h["to"], report["to"]])
    for name in TOTALS:
        sheet.append([h[name], report[name]])
    sheet.append([h["note"], report["category_note"]])
    for dim, key in BREAKDOWNS:
        part = book.create_sheet(h[f"sheet_{dim}"])
        part.append([h[dim], *(h[f] for f in ROW_FIELDS)])
        for row in report[key]:
            part.append([_key(dim, row["key"], h), *(row[f] for f in ROW_FIELDS)])
    kinds = book.create_sheet(h["sheet_kind"])
    kinds.append([h["kind"], h["count"]])
    for kind, n in report["violations_by_kind"].items():
        kinds.append([h[kind], n])
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(60, max(12, width + 2))
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, int):
                    cell.number_format = "#,##0"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(report: dict[str, Any], h: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([h["part"], h["measure"], *(h[f] for f in ROW_FIELDS)])
    writer.writerow(
        [h["total"], f"{report['from']} / {report['to']}"] + [report[f] for f in ROW_FIELDS]
    )
    for dim, key in BREAKDOWNS:
        for row in report[key]:
            writer.writerow([h[dim], _key(dim, row["key"], h), *(row[f] for f in ROW_FIELDS)])
    for kind, n in report["violations_by_kind"].items():
        writer.writerow([h["kind"], h[kind], "", "", "", n, n, "", ""])
    # Excel opens UTF-8 CSV with Vietnamese letters correctly only with a byte-order mark.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _key(dim: str, key: str, h: dict[str, str]) -> str:
    """A breakdown row's name; the category "" (no category) in words."""
    return h["no_category"] if dim == "category" and key == "" else key
