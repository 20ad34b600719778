"""Check photos: upload through the page, see score, priority and the heat map; worded errors."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PRIORITY_WORDS_VI = ("Cao", "Trung bình", "Thấp")


def test_upload_photos_shows_score_priority_and_heatmap(
    console_server, open_page, photo_files, shot
) -> None:
    page = open_page(f"{console_server.url}/#/check")
    assert page.locator("h1").inner_text() == "Kiểm tra ảnh"
    assert page.locator("#check-camera").count() == 0  # no camera button without a touch screen
    page.fill("#check-listing", "LST-1001")
    page.fill("#check-source", "shop-check")
    page.set_input_files("#check-files", [str(p) for p in photo_files(2, first_seed=100)])

    results = page.locator("#check-results li.result[data-item-id]")
    results.nth(1).wait_for()
    assert results.count() == 2
    first = results.first
    assert re.fullmatch(r"\d{1,3}(,\d)?\s?%", first.locator(".score-value").inner_text())
    badge = first.locator(".badge").inner_text()
    assert any(word in badge for word in PRIORITY_WORDS_VI), badge
    photo = first.locator("img.viewer-img").first
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0")

    toggle = first.locator("button.btn-toggle")
    assert toggle.inner_text() == "Hiện bản đồ nhiệt"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    assert toggle.inner_text() == "Ẩn bản đồ nhiệt"
    heat = first.locator("img.viewer-img").nth(1)
    assert heat.is_visible() and not photo.is_visible()
    assert heat.get_attribute("src").startswith("data:image/png;base64,")
    assert heat.evaluate("img => img.naturalWidth > 0")
    shot(page, "check-results-desktop-vi")

    # Stored with the listing id and source typed on the page.
    item_id = first.get_attribute("data-item-id")
    rows = console_server.sql("SELECT listing_id, source FROM items WHERE id = ?", item_id)
    assert rows == [("LST-1001", "shop-check")]

    first.get_by_role("link", name=re.compile("Mở chi tiết")).click()
    page.wait_for_url(re.compile(rf"#/item/{item_id}$"))


def test_not_an_image_is_explained_in_words(console_server, open_page, tmp_path: Path) -> None:
    page = open_page(f"{console_server.url}/#/check")
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is not a photo")
    page.set_input_files("#check-files", str(bad))
    alert = page.locator("#check-results li.is-error [role=alert]")
    alert.wait_for()
    text = alert.inner_text()
    assert "không phải là ảnh được hỗ trợ" in text
    assert "Chi tiết từ máy chủ:" in text
    assert "{" not in text  # never raw JSON


DROP = """(b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], 'dropped.jpg', { type: 'image/jpeg' }));
  const zone = document.getElementById('dropzone');
  zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: files, bubbles: true, cancelable: true }));
  zone.dispatchEvent(new DragEvent('drop', { dataTransfer: files, bubbles: true, cancelable: true }));
}"""


def test_dropped_photo_is_scored(console_server, open_page, photo_bytes) -> None:
    page = open_page(f"{console_server.url}/#/check")
    page.evaluate(DROP, base64.b64encode(photo_bytes(150)).decode("ascii"))
    result = page.locator("#check-results li.result[data-item-id]", has_text="dropped.jpg")
    result.wait_for()
    assert "%" in result.locator(".score-value").inner_text()
    assert "is-over" not in page.locator("#dropzone").get_attribute("class")
