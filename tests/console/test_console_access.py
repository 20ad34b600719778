"""Languages (switch, remembered, nothing untranslated), the key prompt, and a phone screen."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

I18N = Path(__file__).resolve().parents[2] / "serve" / "static" / "i18n"
KEY = "console-inspector-key-0123"  # the inspector key of the keyed_server fixture


def _no_raw_keys(text: str) -> None:
    """No dictionary key ("queue.title") shows instead of its words."""
    keys = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
    shown = [k for k in keys if k in text]
    assert not shown, f"untranslated keys on the page: {shown}"


def test_language_switch_is_remembered(console_server, open_page) -> None:
    page = open_page(f"{console_server.url}/#/queue")
    expect(page.locator("h1")).to_have_text("Hàng đợi kiểm tra")
    assert page.locator("html").get_attribute("lang") == "vi"
    nav = page.get_by_role("navigation", name="Điều hướng chính")
    assert nav.inner_text().split() == [
        "Kiểm", "tra", "ảnh", "Hàng", "đợi", "Cảnh", "báo", "Người", "bán", "Vụ", "việc",
        "Báo", "cáo", "Mô", "hình",
    ]  # fmt: skip
    _no_raw_keys(page.locator("body").inner_text())

    page.select_option("#lang-select", "en")
    expect(page.locator("h1")).to_have_text("Inspection queue")
    nav = page.get_by_role("navigation", name="Main navigation")
    assert nav.inner_text().split() == [
        "Check", "photos", "Queue", "Warnings", "Sellers", "Cases", "Reports", "Model",
    ]  # fmt: skip
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_label("Status")).to_be_visible()

    page.reload()
    expect(page.locator("h1")).to_have_text("Inspection queue")
    assert page.locator("#lang-select").input_value() == "en"
    assert page.evaluate("localStorage.getItem('counterscan.lang')") == "en"
    page.goto(f"{console_server.url}/#/model")
    expect(page.locator("#model-bands")).to_contain_text("Inspect these first")
    _no_raw_keys(page.locator("body").inner_text())

    page.select_option("#lang-select", "vi")
    expect(page.locator("h1")).to_have_text("Mô hình")


def test_protected_server_asks_for_the_key(keyed_server, open_page, photo_bytes) -> None:
    keyed_server.score(photo_bytes(500), key=KEY, listing_id="KEY-1")
    page = open_page(f"{keyed_server.url}/#/queue")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Cần khóa truy cập")

    page.get_by_label("Khóa truy cập", exact=True).fill("not-the-right-key-000")
    dialog.get_by_role("button", name="Tiếp tục").click()
    error = page.locator("#key-error [role=alert]")
    expect(error).to_contain_text("Khóa không được chấp nhận")
    expect(error).to_contain_text("invalid API key")  # the server's own words, not its JSON
    assert "{" not in error.inner_text()

    page.get_by_label("Khóa truy cập", exact=True).fill(KEY)
    dialog.get_by_role("button", name="Tiếp tục").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#queue-list > li.queue-row")).to_have_count(1)
    # Kept for this tab only, never in localStorage.
    assert page.evaluate("sessionStorage.getItem('counterscan.apiKey')") == KEY
    assert KEY not in page.evaluate("JSON.stringify(localStorage)")

    page.get_by_role("button", name="Quên khóa").click()
    page.reload()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Hủy").click()
    alert = page.locator("main [role=alert]")
    expect(alert).to_contain_text("Cần khóa truy cập hợp lệ")
    expect(alert.get_by_role("button", name="Thử lại")).to_be_visible()


def test_phone_screen(console_server, open_page, photo_files) -> None:
    phone = {"width": 390, "height": 844}
    page = open_page(f"{console_server.url}/#/check", viewport=phone)
    # A touch screen gets the camera button: capture opens the camera directly.
    expect(page.get_by_text("Chụp ảnh", exact=True)).to_be_visible()
    assert page.locator("#check-camera").get_attribute("capture") == "environment"
    page.set_input_files("#check-files", str(photo_files(1, first_seed=600)[0]))
    result = page.locator("#check-results li.result[data-item-id]")
    expect(result).to_have_count(1)
    item_id = result.get_attribute("data-item-id")

    def fits() -> bool:
        return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    assert fits(), "the check page scrolls sideways on a phone"
    page.get_by_role("link", name="Hàng đợi").click()
    row = page.locator(f"#queue-list > li[data-id='{item_id}']")
    expect(row).to_be_visible()
    assert fits(), "the queue scrolls sideways on a phone"
    box = row.get_by_role("button", name="Hàng thật").bounding_box()
    assert box and box["height"] >= 36 and box["x"] + box["width"] <= 390  # big enough to tap

    row.locator("a.row-link").click()
    page.wait_for_url(re.compile(rf"#/item/{item_id}$"))
    page.locator("button.btn-verdict[data-verdict=genuine]").click()
    expect(page.locator("#verdict-history .chip-genuine")).to_have_count(1)
    assert fits(), "the item page scrolls sideways on a phone"
    assert console_server.sql("SELECT verdict FROM verdicts WHERE item_id = ?", item_id) == [
        ("genuine",)
    ]
