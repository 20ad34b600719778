"""Similar cases on the item page: a re-encoded, cropped copy of a confirmed counterfeit shows the
original beside its own photo (kind, similarity, verdict), and says why its priority was raised.

Screenshots of the page with a match, on a laptop and a phone in both languages, go where
COUNTERSCAN_CONSOLE_SHOTS says (tmp_path otherwise).
"""

from __future__ import annotations

import io
import re
from uuid import uuid4

import pytest
from PIL import Image, ImageDraw

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

DEVICES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _cropped_copy(data: bytes, crop: float = 0.10, quality: int = 60) -> bytes:
    """What a reseller does to a stolen photo: trim the edges and save it again, smaller."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = img.size
    dx, dy = round(w * crop / 2), round(h * crop / 2)
    buf = io.BytesIO()
    img.crop((dx, dy, w - dx, h - dy)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _listing_photo() -> bytes:
    """A product on a plain background with a logo and a price tag: detail for alignment."""
    img = Image.new("RGB", (480, 360), (214, 222, 232))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle(
        (110, 60, 370, 300), radius=28, fill=(150, 40, 50), outline=(20, 20, 20), width=4
    )
    draw.ellipse((200, 120, 280, 200), fill=(245, 236, 200))
    draw.polygon([(240, 132), (268, 186), (212, 186)], fill=(150, 40, 50))
    draw.rectangle((300, 250, 440, 330), fill=(255, 255, 255), outline=(0, 0, 0), width=2)
    draw.text((315, 280), "SALE 499.000d", fill=(0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _unlike_anything() -> bytes:
    """A photo unlike the product photos the other tests score: diagonal stripes and text."""
    img = Image.new("RGB", (400, 520), (250, 246, 230))
    draw = ImageDraw.Draw(img)
    for x in range(-520, 400, 36):
        draw.line((x, 0, x + 520, 520), fill=(20, 120, 60), width=9)
    draw.rectangle((60, 200, 340, 320), fill=(255, 255, 255), outline=(0, 0, 0), width=3)
    draw.text((90, 250), "no match here", fill=(0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def copy_case(console_server) -> dict[str, dict]:
    """An original confirmed counterfeit through the API, then a cropped re-encoded copy of it."""
    tag = uuid4().hex[:6]
    data = _listing_photo()
    original = console_server.score(data, listing_id=f"ORIG-{tag}", source="shop-a")
    with console_server.client() as client:
        res = client.post(
            f"/v1/items/{original['id']}/verdict",
            json={"verdict": "counterfeit", "note": "Logo giả."},
        )
    res.raise_for_status()
    copy = console_server.score(_cropped_copy(data), listing_id=f"COPY-{tag}", source="shop-b")
    return {"original": original, "copy": copy}


def test_score_response_reports_the_match(copy_case) -> None:
    """The service side first, so a failure here says the matching (not the page) broke."""
    original, copy = copy_case["original"], copy_case["copy"]
    assert copy["id"] != original["id"]
    kinds = {m["item_id"]: m["kind"] for m in copy["matches"]}
    assert kinds.get(original["id"]) == "near_duplicate", copy["matches"]
    assert copy["priority"] == "high"
    assert copy["priority_reason"] == (
        f"matches confirmed counterfeit {original['id']} (near-duplicate)"
    )


def test_item_page_shows_the_original_beside_the_copy(console_server, open_page, copy_case) -> None:
    original, copy = copy_case["original"], copy_case["copy"]
    page = open_page(f"{console_server.url}/#/item/{copy['id']}")
    section = page.locator("#similar-cases")
    expect(section.locator("h2")).to_have_text("Trường hợp tương tự")
    match = section.locator(f"li.match[data-id='{original['id']}']")
    expect(match).to_be_visible()
    expect(match.locator(".match-kind")).to_have_text("Gần trùng lặp")
    expect(match.locator(".chip-counterfeit")).to_have_text("Hàng giả")
    expect(match).to_contain_text(f"Tin đăng {original['listing_id']}")
    expect(match).to_contain_text("shop-a")
    # Similarity in Vietnamese: "Giống 87,5%" (a comma before the decimals, when there are any).
    expect(match.locator(".match-similarity")).to_have_text(
        re.compile(r"^Giống \d{2,3}(,\d)?\s?%$")
    )
    # Both photos load through the key-carrying fetch (blob: URLs), side by side on a laptop.
    own, theirs = section.locator(".compare-own img"), match.locator("img")
    for img in (own, theirs):
        expect(img).to_have_attribute("src", re.compile("^blob:"))
        expect(img).not_to_have_js_property("naturalWidth", 0)
    own_box, list_box = own.bounding_box(), section.locator(".similar-list").bounding_box()
    assert own_box and list_box and own_box["x"] + own_box["width"] <= list_box["x"]

    reason = page.locator("#priority-reason")
    expect(reason).to_contain_text("Nâng lên mức cao:")
    expect(reason).to_contain_text("trùng với hàng giả đã xác nhận")
    expect(reason).to_contain_text("(Gần trùng lặp)")
    expect(page.locator(".score-panel .badge-high")).to_be_visible()

    match.locator("a.match-link").click()  # the match opens the original's page
    expect(page).to_have_url(re.compile(f"#/item/{original['id']}$"))
    expect(page.locator("#item-heading")).to_have_text(f"Tin đăng {original['listing_id']}")
    expect(page.locator("#priority-reason")).to_have_count(0)  # the model's own priority


def test_english_words(console_server, open_page, copy_case) -> None:
    original, copy = copy_case["original"], copy_case["copy"]
    page = open_page(f"{console_server.url}/#/item/{copy['id']}", locale="en-US")
    page.select_option("#lang-select", "en")
    section = page.locator("#similar-cases")
    expect(section.locator("h2")).to_have_text("Similar cases")
    match = section.locator(f"li.match[data-id='{original['id']}']")
    expect(match.locator(".match-kind")).to_have_text("Near-duplicate")
    expect(match.locator(".chip-counterfeit")).to_have_text("Counterfeit")
    expect(match.locator(".match-similarity")).to_have_text(re.compile(r"^\d{2,3}(\.\d)?% alike$"))
    expect(page.locator("#priority-reason")).to_contain_text(
        "Raised to high: matches confirmed counterfeit"
    )


def test_no_matches_is_said(console_server, open_page) -> None:
    item = console_server.score(_unlike_anything(), listing_id=f"ALONE-{uuid4().hex[:6]}")
    assert item["matches"] == [] and item["priority_reason"] is None
    page = open_page(f"{console_server.url}/#/item/{item['id']}")
    section = page.locator("#similar-cases")
    expect(section.locator(".similar-empty")).to_contain_text("Không có trường hợp trùng khớp")
    expect(section.locator("li.match")).to_have_count(0)
    expect(section.locator(".compare-own img")).to_have_attribute("src", re.compile("^blob:"))
    expect(page.locator("#priority-reason")).to_have_count(0)


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_screens_with_a_match(console_server, open_page, shot, copy_case, lang, device) -> None:
    page = open_page(f"{console_server.url}/#/item/{copy_case['copy']['id']}", DEVICES[device])
    if lang == "en":
        page.select_option("#lang-select", "en")
    section = page.locator("#similar-cases")
    # The view is drawn again in the chosen language: wait for that one, not the one before.
    heading = {"vi": "Trường hợp tương tự", "en": "Similar cases"}[lang]
    expect(section.locator("h2")).to_have_text(heading)
    for img in (section.locator(".compare-own img"), section.locator("li.match img").first):
        expect(img).not_to_have_js_property("naturalWidth", 0)
    expect(page.locator(".viewer img").first).not_to_have_js_property("naturalWidth", 0)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= DEVICES[device]["width"], "the page scrolls sideways"
    if device == "phone":  # stacked: the matches come under the item's photo
        own = section.locator(".compare-own").bounding_box()
        first = section.locator("li.match").first.bounding_box()
        assert own and first and first["y"] >= own["y"] + own["height"]
    shot(page, f"similar-{device}-{lang}")
