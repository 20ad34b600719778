"""The printable summary of an evidence package (summary.html), Vietnamese or English.

Self-contained (no scripts, no remote files): it prints the same anywhere and opens offline.
Photos are referenced by their path inside the ZIP, so they show when the ZIP is unpacked.
"""

from __future__ import annotations

from html import escape
from typing import Any

TEXT = {
    "vi": {
        "title": "Hồ sơ chứng cứ vụ việc",
        "case": "Vụ việc",
        "status": "Trạng thái",
        "inspector": "Cán bộ phụ trách",
        "opened": "Ngày mở",
        "closed": "Ngày đóng",
        "outcome": "Kết quả",
        "kind": "Loại vi phạm",
        "fine": "Tiền phạt (VNĐ)",
        "goods": "Giá trị hàng hóa (VNĐ)",
        "quantity": "Số lượng tạm giữ",
        "items": "Hình ảnh thu thập",
        "photo": "Ảnh",
        "sha": "SHA-256 (ảnh gốc)",
        "collected": "Thời điểm thu thập (UTC)",
        "where": "Nguồn / đường dẫn / mã tin đăng",
        "seller": "Người bán",
        "model": "Phiên bản mô hình",
        "score": "Điểm nghi vấn",
        "priority": "Mức ưu tiên / lý do",
        "verdicts": "Đánh giá của cán bộ",
        "similar": "Vụ tương tự",
        "history": "Lịch sử xử lý",
        "when": "Thời gian (UTC)",
        "who": "Người thực hiện",
        "what": "Nội dung",
        "made": "Hồ sơ lập lúc",
        "by": "bởi",
        "heatmaps": "Bản đồ nhiệt",
        "check": "Kiểm tra tính toàn vẹn: counterscan evidence verify <tệp.zip> --public-key "
        "<khóa.pub>. Mọi tệp được liệt kê trong manifest.json kèm SHA-256; manifest được ký Ed25519.",
        "none": "không có",
        "included": "có (thư mục heatmaps/)",
        "not_included": "không kèm theo",
    },
    "en": {
        "title": "Case evidence package",
        "case": "Case",
        "status": "Status",
        "inspector": "Inspector",
        "opened": "Opened",
        "closed": "Closed",
        "outcome": "Outcome",
        "kind": "Violation kind",
        "fine": "Fine (VND)",
        "goods": "Goods value (VND)",
        "quantity": "Quantity seized",
        "items": "Collected photos",
        "photo": "Photo",
        "sha": "SHA-256 (original)",
        "collected": "Collected at (UTC)",
        "where": "Source / URL / listing",
        "seller": "Seller",
        "model": "Model version",
        "score": "Score",
        "priority": "Priority / reasons",
        "verdicts": "Inspector verdicts",
        "similar": "Similar cases",
        "history": "History",
        "when": "When (UTC)",
        "who": "Who",
        "what": "What",
        "made": "Package made at",
        "by": "by",
        "heatmaps": "Heat maps",
        "check": "Integrity check: counterscan evidence verify <file.zip> --public-key <key.pub>. "
        "Every file is listed in manifest.json with its SHA-256; the manifest is Ed25519-signed.",
        "none": "none",
        "included": "included (heatmaps/ folder)",
        "not_included": "not included",
    },
}
WORDS = {
    "vi": {
        "open": "mới mở",
        "inspecting": "đang kiểm tra",
        "violation": "có vi phạm",
        "no_violation": "không vi phạm",
        "closed": "đã đóng",
        "counterfeit_goods": "hàng giả",
        "smuggled_goods": "hàng nhập lậu",
        "ip_infringement": "xâm phạm sở hữu trí tuệ",
        "unknown_origin": "không rõ nguồn gốc",
        "other": "khác",
        "counterfeit": "hàng giả",
        "genuine": "hàng thật",
        "unsure": "chưa chắc chắn",
        "high": "cao",
        "medium": "trung bình",
        "low": "thấp",
        "created": "mở vụ việc",
        "status": "đổi trạng thái",
        "note": "ghi chú",
        "assigned": "phân công",
        "item_added": "thêm ảnh",
        "item_removed": "bỏ ảnh",
        "evidence_download": "tải hồ sơ chứng cứ",
    },
    "en": {},
}


def summary_html(record: dict[str, Any], lang: str = "vi") -> str:
    t = TEXT[lang]

    def w(value: Any) -> str:
        if value is None or value == "":
            return t["none"]
        return escape(WORDS[lang].get(str(value), str(value).replace("_", " ")))

    def money(value: Any) -> str:
        return t["none"] if value is None else f"{int(value):,}".replace(",", ".")

    case = record["case"]
    head = [
        (t["status"], w(case["status"])),
        (t["inspector"], escape(case["inspector"] or "")),
        (t["opened"], when(case["created_at"])),
        (t["closed"], when(case["closed_at"]) if case["closed_at"] else t["none"]),
        (t["outcome"], w(case["outcome"])),
        (t["kind"], w(case["violation_kind"])),
        (t["fine"], money(case["fine_vnd"])),
        (t["goods"], money(case["goods_value_vnd"])),
        (t["quantity"], t["none"] if case["quantity_seized"] is None else case["quantity_seized"]),
        (t["heatmaps"], _heatmaps(record["heatmaps"], t)),
    ]
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in head)
    items = "".join(_item(i, t, w) for i in record["items"])
    history = "".join(
        f"<tr><td>{when(e['created_at'])}</td><td>{escape(e['actor'])}</td>"
        f"<td>{w(e['kind'])}"
        + (f": {w(e['from_status'])} → {w(e['to_status'])}" if e["from_status"] else "")
        + (f" ({escape(e['item_id'])})" if e["item_id"] else "")
        + (f" — {escape(e['note'])}" if e["note"] else "")
        + "</td></tr>"
        for e in case["history"]
    )
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{t["title"]} #{case["id"]}</title>
<style>
body{{font-family:sans-serif;margin:2em;color:#111}} table{{border-collapse:collapse;margin:1em 0}}
th,td{{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}}
th{{background:#eee}} .item{{page-break-inside:avoid;margin-bottom:1.5em}}
.item img{{max-width:45%;max-height:300px;margin-right:1em}} code{{word-break:break-all}}
</style></head><body>
<h1>{t["title"]}</h1>
<h2>{t["case"]} #{case["id"]}: {escape(case["title"])}</h2>
<table>{rows}</table>
<h2>{t["items"]} ({len(record["items"])})</h2>
{items}
<h2>{t["history"]}</h2>
<table><tr><th>{t["when"]}</th><th>{t["who"]}</th><th>{t["what"]}</th></tr>{history}</table>
<p>{t["made"]} {when(record["made_at"])} {t["by"]} {escape(record["made_by"])}.</p>
<p><small>{escape(t["check"])}</small></p>
</body></html>
"""


def _seller(seller: dict[str, Any] | None) -> str:
    """The linked seller as "name (seller_id, source)"; "" when there is none."""
    if not seller:
        return ""
    where = ", ".join(str(v) for v in (seller["seller_id"], seller["source"]) if v)
    name = seller.get("name")
    return escape(f"{name} ({where})" if name else where)


def _item(item: dict[str, Any], t: dict[str, str], w: Any) -> str:
    photos = ""
    if item.get("photo"):
        photos += f'<img src="{escape(item["photo"])}" alt="{t["photo"]}">'
    if item.get("heatmap"):
        photos += f'<img src="{escape(item["heatmap"])}" alt="{t["heatmaps"]}">'
    where = " / ".join(
        escape(str(v)) for v in (item["source"], item["url"], item["listing_id"]) if v
    )
    verdicts = "; ".join(
        f"{w(v['verdict'])} ({escape(v['inspector'])}, {when(v['created_at'])})"
        for v in item["verdicts"]
    )
    similar = "; ".join(
        f"{escape(m.get('item_id', ''))} ({w(m.get('kind'))})" for m in item["similar_matches"]
    )
    reason = f" — {escape(item['priority_reason'])}" if item.get("priority_reason") else ""
    rows = [
        (t["sha"], f"<code>{escape(item['sha256'])}</code>"),
        (t["collected"], when(item["collected_at"])),
        (t["where"], where or t["none"]),
        (t["seller"], _seller(item.get("seller")) or t["none"]),
        (t["model"], escape(item["model_version"])),
        (t["score"], f"{item['score']:.3f}"),
        (t["priority"], f"{w(item['priority'])}{reason}"),
        (t["verdicts"], verdicts or t["none"]),
        (t["similar"], similar or t["none"]),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        f'<div class="item"><h3>{escape(item["item_id"])}</h3>{photos}<table>{table}</table></div>'
    )


def when(iso: str) -> str:
    """2026-02-16T14:11:19.291125Z -> 2026-02-16 14:11:19 UTC (the exact time is in case.json)."""
    return escape(f"{iso[:19].replace('T', ' ')} UTC")


def _heatmaps(note: str, t: dict[str, str]) -> str:
    if note == "included":
        return t["included"]
    return f"{t['not_included']} ({escape(note.removeprefix('not included: '))})"
