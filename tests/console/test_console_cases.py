"""The case pages and the reports page in a real browser: a case opened from an item page,
walked through the workflow to a violation with a fine, closed; its evidence downloaded (and
verified); the cases list filtered; the report shown and downloaded. Screenshots in Vietnamese."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect
PHONE = {"width": 390, "height": 844}


def test_case_from_item_to_closed_with_evidence(
    console_server, open_page, photo_bytes, shot, tmp_path
) -> None:
    from counterscan.serve.cases.evidence import verify_package

    source = f"case-shop-{uuid4().hex[:6]}"
    first, second = (
        console_server.score(photo_bytes(900 + i), listing_id=f"VV-{i}", source=source)
        for i in range(2)
    )
    page = open_page(f"{console_server.url}/#/item/{first['id']}")
    expect(page.locator("#item-cases")).to_contain_text("chưa thuộc vụ việc nào")
    page.fill("#case-title", "Cửa hàng túi xách giả")
    page.locator("#open-case").click()
    page.wait_for_url(re.compile(r"#/case/\d+$"))
    case_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("h1")).to_have_text(f"Vụ việc số {case_id}: Cửa hàng túi xách giả")
    expect(page.locator("#case-facts-list")).to_contain_text("Mới mở")

    with console_server.client() as client:  # a second photo joins through the API
        r = client.post(f"/v1/cases/{case_id}/items", json={"item_ids": [second["id"]]})
        assert r.status_code == 200, r.text
    page.reload()
    items = page.locator("#case-item-list li.case-item")
    expect(items).to_have_count(2)
    for i in range(2):
        expect(items.nth(i).locator("img.thumb")).not_to_have_js_property("naturalWidth", 0)

    page.locator("[data-move=inspecting]").click()
    expect(page.locator("#case-facts-list")).to_contain_text("Đang kiểm tra")
    page.locator("[data-move=violation]").click()
    expect(page.locator("#outcome-form")).to_be_visible()
    page.select_option("#outcome-kind", "counterfeit_goods")
    page.fill("#outcome-fine", "15000000")
    page.fill("#outcome-goods", "42500000")
    page.fill("#outcome-quantity", "120")
    page.fill("#outcome-note", "Biên bản số 12/BB-QLTT")
    shot(page, "case-violation-desktop-vi")
    page.locator("#close-case").click()
    facts = page.locator("#case-facts-list")
    expect(facts).to_contain_text("Đã kết thúc")
    expect(facts).to_contain_text("Hàng giả")
    assert re.search(r"15\.000\.000\s*₫", facts.inner_text())
    assert page.locator("[data-move]").count() == 0  # no more workflow steps
    assert console_server.sql(
        "SELECT status, outcome, violation_kind, fine_vnd, goods_value_vnd, quantity_seized "
        "FROM cases WHERE id = ?",
        case_id,
    ) == [("closed", "violation", "counterfeit_goods", 15_000_000, 42_500_000, 120)]

    with page.expect_download() as info:
        page.locator("#evidence-download").click()
    package = tmp_path / "evidence.zip"
    info.value.save_as(package)
    assert verify_package(package, console_server.evidence_public_key).ok
    history = page.locator("#case-history-list li")
    expect(history.first).to_have_attribute("data-kind", "evidence_download")
    expect(history.first).to_contain_text("Tải hồ sơ chứng cứ")
    steps = [history.nth(i).get_attribute("data-kind") for i in range(history.count())]
    assert steps[::-1] == [
        "created", "item_added", "item_added", "status", "status", "closed", "evidence_download",
    ]  # fmt: skip
    shot(page, "case-closed-desktop-vi")

    phone = open_page(f"{console_server.url}/#/case/{case_id}", viewport=PHONE)
    expect(phone.locator("#case-item-list li.case-item")).to_have_count(2)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(phone, "case-closed-phone-vi")

    page.goto(f"{console_server.url}/#/cases")
    expect(page.locator("h1")).to_have_text("Vụ việc")
    page.select_option("#cases-status", "closed")
    row = page.locator(f"#cases-table tr[data-case-id='{case_id}']")
    expect(row).to_contain_text("Cửa hàng túi xách giả")
    expect(row).to_contain_text("Đã kết thúc")
    shot(page, "cases-desktop-vi")
    page.select_option("#cases-status", "inspecting")
    expect(page.locator(f"#cases-table tr[data-case-id='{case_id}']")).to_have_count(0)


def test_reports_page_shows_the_period_and_downloads(
    console_server, open_page, photo_bytes, shot, tmp_path
) -> None:
    from openpyxl import load_workbook

    item = console_server.score(photo_bytes(950), listing_id="BC-1", source="report-shop")
    with console_server.client() as client:
        case = client.post("/v1/cases", json={"title": "Báo cáo", "item_ids": [item["id"]]}).json()
        for status in ("inspecting", "violation"):
            client.post(f"/v1/cases/{case['id']}/status", json={"status": status})
        body = {"violation_kind": "ip_infringement", "fine_vnd": 7_000_000, "goods_value_vnd": 9}
        assert client.post(f"/v1/cases/{case['id']}/close", json=body).status_code == 200
        want = client.get("/v1/reports/summary", params=_period()).json()
    start, end = _period()["from"], _period()["to"]
    page = open_page(f"{console_server.url}/#/reports?from={start}&to={end}")
    expect(page.locator("h1")).to_have_text("Báo cáo")
    tiles = page.locator("#report-totals")
    expect(tiles).to_contain_text("Vụ vi phạm")
    assert page.locator("#report-from").input_value() == start
    text = tiles.inner_text()
    assert re.search(rf"{want['violations']}\s*Vụ vi phạm", text), text
    fines = f"{want['fines_vnd']:,}".replace(",", ".")
    assert re.search(rf"{fines}\s*₫\s*Tiền phạt", text), text
    expect(page.locator("#report-kinds")).to_contain_text("Xâm phạm quyền sở hữu trí tuệ")
    shot(page, "reports-desktop-vi")

    with page.expect_download() as info:
        page.locator("#report-xlsx").click()
    sheet = tmp_path / "report.xlsx"
    info.value.save_as(sheet)
    book = load_workbook(sheet)
    assert book.sheetnames[0] == "Tổng hợp"
    totals = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(values_only=True)}
    assert totals["Tiền phạt (VNĐ)"] == want["fines_vnd"]

    phone = open_page(page.url, viewport=PHONE)
    expect(phone.locator("#report-totals")).to_contain_text("Vụ vi phạm")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(phone, "reports-phone-vi")

    page.select_option("#lang-select", "en")
    expect(page.locator("h1")).to_have_text("Reports")
    expect(page.locator("#report-totals")).to_contain_text("Violations")


def _period() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": str(today - timedelta(days=30)), "to": str(today + timedelta(days=1))}
