"""A tour of every page in both languages on a laptop and a phone, with screenshots.

Set COUNTERSCAN_CONSOLE_SHOTS=/some/folder to keep the PNGs and look at them; by default they
go to tmp_path. The assertions are about what a reader needs: nothing scrolls sideways, every
image loaded, the language is the one chosen.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

DEVICES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
TITLES = {
    "vi": {"check": "Kiểm tra ảnh", "queue": "Hàng đợi kiểm tra", "model": "Mô hình"},
    "en": {"check": "Check photos", "queue": "Inspection queue", "model": "Model"},
}


@pytest.fixture(scope="module")
def tour_source(console_server) -> str:
    """A few scored listings of their own, one of them already reviewed."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    source = f"tour-{uuid4().hex[:6]}"
    ids = []
    for i in range(5):
        img = Image.new("RGB", (520 + 40 * i, 390), (200 - 30 * i, 120 + 20 * i, 90 + 25 * i))
        draw = ImageDraw.Draw(img)
        draw.rounded_rectangle((130, 80, 390 + 20 * i, 310), radius=30, fill=(30 + 40 * i, 60, 140))
        draw.ellipse((230, 160, 300, 230), fill=(240, 240, 240))
        buf = BytesIO()
        img.save(buf, format="JPEG", quality=90)
        ids.append(
            console_server.score(
                buf.getvalue(),
                listing_id=f"SP-{1000 + i}",
                source=source,
                url=f"https://shop.example/listing/{1000 + i}",
            )["id"]
        )
    with console_server.client() as client:
        client.post(
            f"/v1/items/{ids[0]}/verdict", json={"verdict": "counterfeit", "note": "Logo lệch."}
        )
    return source


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_tour(console_server, open_page, photo_files, shot, tour_source, lang, device) -> None:
    viewport = DEVICES[device]
    page = open_page(f"{console_server.url}/#/check", viewport=viewport)
    if lang == "en":
        page.select_option("#lang-select", "en")
    expect(page.locator("h1")).to_have_text(TITLES[lang]["check"])

    def fits() -> bool:
        return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.set_input_files("#check-files", [str(p) for p in photo_files(2, first_seed=700)])
    results = page.locator("#check-results li.result[data-item-id]")
    expect(results).to_have_count(2)
    results.first.locator("button.btn-toggle").click()
    expect(results.first.locator("img.viewer-img").nth(1)).to_be_visible()
    assert fits()
    shot(page, f"check-{device}-{lang}")

    page.goto(f"{console_server.url}/#/queue?source={tour_source}&status=all")
    expect(page.locator("h1")).to_have_text(TITLES[lang]["queue"])
    rows = page.locator("#queue-list > li.queue-row")
    expect(rows).to_have_count(5)
    for i in range(5):
        expect(rows.nth(i).locator("img.thumb")).not_to_have_js_property("naturalWidth", 0)
    assert fits()
    shot(page, f"queue-{device}-{lang}")

    rows.first.locator("a.row-link").click()
    page.locator("button.btn-toggle").click()
    heat = page.locator(".viewer img").nth(1)
    expect(heat).to_be_visible()
    expect(heat).not_to_have_js_property("naturalWidth", 0)
    assert fits()
    shot(page, f"item-heatmap-{device}-{lang}")

    page.goto(f"{console_server.url}/#/model")
    expect(page.locator("h1")).to_have_text(TITLES[lang]["model"])
    expect(page.locator("#model-identity dd strong")).to_be_visible()
    assert fits()
    shot(page, f"model-{device}-{lang}")
