"""The sellers page (ranked by risk as the API ranks them, filters, paging) and a seller's page
(listings with their photos and verdicts, links and why, reasons in the reader's language, the
way into the photos and a case about the seller), in a browser, in both languages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers.seller_world import PHONE, World, plant

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

WORDS = {
    "vi": {
        "sellers": "Người bán theo mức rủi ro",
        "headers": ["Hạng", "Người bán", "Nguồn", "Rủi ro", "Tin đăng", "Tin ưu tiên cao",
                    "Ảnh hàng giả đã xác nhận", "Liên kết", "Thấy lần cuối"],
        "none": "Không có người bán nào phù hợp.",
        "phone": f"cùng số điện thoại {PHONE}",
        "photo": "cùng ảnh",
        "counterfeit": "Hàng giả",
        "listings": "Tin đăng (2)",
        "confirmed": "1 ảnh đã xác nhận là hàng giả trong 1 tin đăng",
        "linked": "Người bán liên kết (1)",
        "open_case": "Mở vụ việc",
        "missing": "Không tìm thấy",
    },
    "en": {
        "sellers": "Sellers by risk",
        "headers": ["Rank", "Seller", "Source", "Risk", "Listings", "High-priority listings",
                    "Confirmed counterfeit photos", "Linked to", "Last seen"],
        "none": "No sellers match.",
        "phone": f"same phone {PHONE}",
        "photo": "same photo",
        "counterfeit": "Counterfeit",
        "listings": "Listings (2)",
        "confirmed": "1 photo(s) confirmed counterfeit in 1 listing(s)",
        "linked": "Linked sellers (1)",
        "open_case": "Open a case",
        "missing": "was not found",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def world(own_server) -> World:
    return plant(own_server)


def _api(server: Any, path: str, **params: Any) -> Any:
    with server.client() as client:
        r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _open(open_page: Any, server: Any, lang: str, hash_: str) -> Any:
    page = open_page(f"{server.url}/{hash_}")
    if lang == "en":
        page.select_option("#lang-select", "en")
    return page


def _order(page: Any) -> list[str]:
    return [r.get_attribute("data-seller") for r in page.locator("#sellers-table tbody tr").all()]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_sellers_ranked_by_risk_with_filters_and_paging(
    own_server, world, open_page, shot, lang
) -> None:
    ranked = _api(own_server, "/v1/sellers")["sellers"]
    # The two planted counterfeit sellers above the genuine and the quiet shop.
    assert {s["seller_id"] for s in ranked[:2]} == {"fake-shop", "fake-again"}, ranked
    page = _open(open_page, own_server, lang, "#/sellers")
    expect(page.locator("h1")).to_have_text(WORDS[lang]["sellers"])
    headers = page.locator("#sellers-table thead th")
    expect(headers).to_have_text(WORDS[lang]["headers"])
    expect(page.locator("#sellers-table tbody tr")).to_have_count(len(ranked))
    assert _order(page) == [f"{s['source']}/{s['seller_id']}" for s in ranked]
    risks = [
        float(r.get_attribute("data-risk")) for r in page.locator("#sellers-table tbody tr").all()
    ]
    assert risks == sorted(risks, reverse=True) and risks[0] >= 0.9
    top = page.locator("#sellers-table tbody tr").first
    expect(top.locator("a.seller-link").first).to_have_text(ranked[0]["name"])
    for col, field in (
        ("listings", "listings"),
        ("high", "high_listings"),
        ("confirmed", "confirmed_counterfeit"),
    ):
        expect(top.locator(f"td[data-col={col}]")).to_have_text(str(ranked[0][field]))
    expect(top.locator(".risk-badge")).to_contain_text(str(round(ranked[0]["risk"] * 100)))
    again = page.locator("#sellers-table tbody tr[data-seller='tiktok/fake-again']")
    expect(again.locator(".linked-list")).to_contain_text("shopee / fake-shop")
    expect(again.locator(".linked-list")).to_contain_text(WORDS[lang]["phone"])
    shot(page, f"sellers-desktop-{lang}")

    page.fill("#sellers-source", "tiktok")
    page.locator("#sellers-source").press("Enter")
    expect(page.locator("#sellers-table tbody tr")).to_have_count(1)
    assert _order(page) == ["tiktok/fake-again"]
    page.fill("#sellers-source", "")
    page.select_option("#sellers-min-risk", "0.8")
    risky = _api(own_server, "/v1/sellers", min_risk=0.8)["sellers"]
    expect(page.locator("#sellers-table tbody tr")).to_have_count(len(risky))
    assert _order(page) == [f"{s['source']}/{s['seller_id']}" for s in risky]
    page.fill("#sellers-source", "nowhere")
    page.locator("#sellers-source").press("Enter")
    expect(page.locator("#sellers-empty")).to_have_text(WORDS[lang]["none"])

    page.goto(f"{own_server.url}/#/sellers?limit=2")
    page.reload()  # the hash alone does not route again
    expect(page.locator("#sellers-range")).to_have_text(f"1–2 / {len(ranked)}")
    assert _order(page) == [f"{s['source']}/{s['seller_id']}" for s in ranked[:2]]
    page.locator("#sellers-next").click()
    expect(page.locator("#sellers-range")).to_have_text(f"3–4 / {len(ranked)}")
    assert _order(page) == [f"{s['source']}/{s['seller_id']}" for s in ranked[2:4]]
    expect(page.locator("#sellers-table tbody tr td").first).to_have_text("3")
    expect(page.locator("#sellers-next")).to_be_disabled()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_seller_page_listings_photos_links_and_reasons(
    own_server, world, open_page, shot, lang
) -> None:
    page = _open(open_page, own_server, lang, "#/sellers")
    page.locator(
        "#sellers-table tbody tr[data-seller='tiktok/fake-again'] a.seller-link"
    ).first.click()
    expect(page).to_have_url(re.compile(r"#/seller/tiktok/fake-again$"))
    expect(page.locator("h1")).to_have_text("Shop Giày Mới (tiktok)")
    api = _api(own_server, "/v1/sellers/tiktok/fake-again")
    expect(page.locator("#seller-listings")).to_have_text(WORDS[lang]["listings"])
    listings = page.locator("#seller-listing-list > li.listing")
    assert [x.get_attribute("data-listing") for x in listings.all()] == [
        x["listing_id"] for x in api["listing_details"]
    ]
    t1 = page.locator("li.listing[data-listing=T1]")
    expect(t1).to_contain_text("Giày AF1 giá sốc")
    photo = t1.locator(f"li.listing-photo[data-item-id='{world.counterfeit_item}']")
    expect(photo.locator(".chip-counterfeit")).to_have_text(WORDS[lang]["counterfeit"])
    for img in page.locator("li.listing-photo img.thumb").all():
        expect(img).not_to_have_js_property("naturalWidth", 0)
    expect(page.locator("#seller-risk-value")).to_have_text(
        re.compile(str(round(api["risk"] * 100)))
    )
    reasons = page.locator("#seller-reasons > li")
    expect(reasons).to_have_count(len(api["reasons"]))
    assert page.locator("#seller-reasons > li[lang=en]").count() == 0 or lang == "en"
    expect(page.locator("#seller-links")).to_have_text(WORDS[lang]["linked"])
    link = page.locator("#seller-linked > li[data-seller='shopee/fake-shop']")
    expect(link.locator(".why")).to_contain_text(WORDS[lang]["phone"])
    expect(link.locator(".why")).to_contain_text(WORDS[lang]["photo"])
    shot(page, f"seller-desktop-{lang}")

    link.locator("a.seller-link").click()  # to the seller it is linked to, and its reasons
    expect(page.locator("h1")).to_have_text("Giày Hiệu Giá Rẻ (shopee)")
    expect(page.locator("#seller-reasons")).to_contain_text(WORDS[lang]["confirmed"])
    page.locator(f"li.listing-photo[data-item-id='{world.counterfeit_item}'] a").click()
    expect(page).to_have_url(re.compile(rf"#/item/{world.counterfeit_item}$"))

    page.goto(f"{own_server.url}/#/seller/shopee/nobody-here")
    error = page.locator("main [role=alert]")
    expect(error).to_contain_text("nobody-here")  # the server's own words
    expect(error).to_contain_text(re.compile(WORDS[lang]["missing"], re.IGNORECASE))


def test_open_a_case_about_the_seller(own_server, world, open_page) -> None:
    page = _open(open_page, own_server, "vi", "#/seller/shopee/fake-shop")
    expect(page.locator("#seller-case-title")).to_have_value(
        "Người bán Giày Hiệu Giá Rẻ trên shopee"
    )
    page.get_by_role("button", name=WORDS["vi"]["open_case"]).click()
    page.wait_for_url(re.compile(r"#/case/\d+$"))
    case_id = page.url.rsplit("/", 1)[1]
    kase = _api(own_server, f"/v1/cases/{case_id}")
    wanted = {world.items[k]["id"] for k in ("F1", "F2", "F3")}
    assert set(kase["item_ids"]) == wanted
    expect(page.locator("#case-item-list > li")).to_have_count(len(wanted))


def test_seller_pages_fit_a_phone(own_server, world, open_page, shot) -> None:
    page = open_page(f"{own_server.url}/#/sellers", viewport={"width": 390, "height": 844})
    expect(page.locator("#sellers-table tbody tr").first).to_be_visible()

    def fits() -> bool:
        return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    assert fits(), "the sellers page scrolls sideways on a phone"
    shot(page, "sellers-phone-vi")
    page.goto(f"{own_server.url}/#/seller/tiktok/fake-again")
    expect(page.locator("#seller-listing-list > li")).to_have_count(2)
    assert fits(), "the seller page scrolls sideways on a phone"
    shot(page, "seller-phone-vi")
    page.goto(f"{own_server.url}/#/dashboard")
    expect(page.locator("#trend-charts > li")).to_have_count(3)
    assert fits(), "the dashboard scrolls sideways on a phone"
    shot(page, "dashboard-phone-vi")
