"""The item page: full image, heat map, facts, verdicts with a note, history; the model page."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect


def test_item_page_shows_image_heatmap_facts_and_records_verdicts(
    console_server, open_page, photo_bytes
) -> None:
    item = console_server.score(
        photo_bytes(300), listing_id="IT-300", source="item-shop", url="https://shop.example/p/300"
    )
    page = open_page(f"{console_server.url}/#/item/{item['id']}")
    page.locator("#item-heading", has_text="Tin đăng IT-300").wait_for()
    photo = page.locator(".viewer img").first
    expect(photo).to_have_js_property("naturalWidth", 480)  # the stored original, full size
    expect(photo).to_have_js_property("naturalHeight", 360)

    page.locator("button.btn-toggle").click()
    heat = page.locator(".viewer img").nth(1)
    expect(heat).to_be_visible()
    expect(heat).to_have_js_property("naturalWidth", 360)  # the centre square the model saw
    expect(heat).to_have_js_property("naturalHeight", 360)
    assert "Phần giữa ảnh" in page.locator(".viewer-note").inner_text()

    facts = page.locator("dl.facts").inner_text()
    for value in (item["sha256"], "item-shop", "console-model-1", "480 × 360 px"):
        assert value in facts
    link = page.get_by_role("link", name="shop.example/p/300")
    assert link.get_attribute("href") == "https://shop.example/p/300"
    assert link.get_attribute("rel") == "noopener noreferrer"

    page.fill("#verdict-note", "Logo sai phông chữ, đường may lệch.")
    page.locator("button.btn-verdict[data-verdict=counterfeit]").click()
    history = page.locator("#verdict-history li")
    history.first.locator(".chip-counterfeit").wait_for()
    assert "Logo sai phông chữ" in history.first.inner_text()
    assert page.locator("#verdict-note").input_value() == ""

    page.locator("h1").click()
    page.keyboard.press("g")  # shortcut on the item page; history keeps both, newest first
    expect(history).to_have_count(2)
    assert history.first.locator(".chip-genuine").count() == 1

    stored = console_server.sql(
        "SELECT verdict, note, inspector FROM verdicts WHERE item_id = ? ORDER BY id", item["id"]
    )
    assert stored == [
        ("counterfeit", "Logo sai phông chữ, đường may lệch.", "local"),
        ("genuine", "", "local"),
    ]


def test_unknown_item_is_explained(console_server, open_page) -> None:
    page = open_page(f"{console_server.url}/#/item/{'0' * 32}")
    alert = page.locator("main [role=alert]")
    alert.wait_for()
    assert "Không tìm thấy mục này" in alert.inner_text()
    assert page.get_by_role("button", name="Thử lại").is_visible()


def test_model_page_explains_the_bands(console_server, open_page) -> None:
    page = open_page(f"{console_server.url}/#/model")
    identity = page.locator("#model-identity")
    identity.locator("dd strong").wait_for()
    assert "console-model-1" in identity.inner_text()
    bands = page.locator("#model-bands").inner_text()
    # Thresholds of the console server's model: high >= 0.6, low < 0.3 (conftest.py here).
    assert "Điểm từ 60% trở lên" in bands
    assert "Điểm từ 30% đến dưới 60%" in bands
    assert "Điểm dưới 30%" in bands

    # Validation results and training data, as `counterscan train` records them.
    def cells(row) -> list[str]:
        return [c.strip() for c in row.locator("th, td").all_inner_texts()][1:]

    metrics = page.locator("#model-metrics table.grid")
    assert cells(metrics.locator("thead tr")) == ["Kiểm định", "Kiểm tra cuối"]
    assert cells(metrics.get_by_role("row", name=re.compile("AUC"))) == ["0,962", "0,951"]
    assert cells(metrics.get_by_role("row", name=re.compile(r"\(AP\)"))) == ["0,948", "0,933"]
    recall = metrics.get_by_role("row", name=re.compile("độ chính xác ≥ 90%"))
    assert cells(recall) == ["87%", "82%"]
    photos = page.locator("#model-training table.grid")
    assert cells(photos.get_by_role("row", name="Hàng giả")) == ["210", "45", "45"]
    training = page.locator("#model-training").inner_text()
    assert "Dừng sớm\tCó" in training and "412,5 giây" in training
