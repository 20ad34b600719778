"""The early-warning dashboard in a browser: one bar per day with the counts the photos put in
through the API make (overall, per source, per category), the open alerts with their evidence,
acknowledging one removes it, labels in the chosen language; a keyed server asks for the key
and shows the API's refusal; an empty server says there is nothing yet."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers.seller_world import PHONE, SHOES, World, plant

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

KEY = "console-inspector-key-0123"  # the inspector key of the keyed_server fixture
WORDS = {
    "vi": {
        "title": "Cảnh báo sớm và xu hướng",
        "charts": ["Ảnh đã chấm điểm", "Ảnh ưu tiên cao", "Kết luận hàng giả"],
        "known_counterfeit": "Ảnh hàng giả đã xác nhận",
        "linked_seller": "Người bán liên kết với hàng giả",
        "why": f"cùng số điện thoại {PHONE}",
        "ack": "Đã xem, đánh dấu xử lý",
        "none": "Không có cảnh báo nào chưa xử lý.",
    },
    "en": {
        "title": "Early warnings and trends",
        "charts": ["Photos scored", "Photos at high priority", "Counterfeit verdicts"],
        "known_counterfeit": "Known counterfeit photo",
        "linked_seller": "Seller linked to a counterfeiter",
        "why": f"same phone {PHONE}",
        "ack": "Acknowledge",
        "none": "No open warnings.",
    },
}
SERIES = ("scored", "high", "counterfeit")


@pytest.fixture(scope="module")
def world(own_server) -> World:
    return plant(own_server)


def _open(open_page: Any, server: Any, lang: str, hash_: str = "#/dashboard?days=7") -> Any:
    page = open_page(f"{server.url}/{hash_}")
    if lang == "en":
        page.select_option("#lang-select", "en")
    expect(page.locator("h1")).to_have_text(WORDS[lang]["title"])
    return page


def _bars(page: Any) -> dict[str, list[tuple[str, int]]]:
    """Each chart's bars as (day, count), read from the drawn SVG."""
    out = {}
    for series in SERIES:
        bars = page.locator(f"#trend-charts li[data-series={series}] rect.bar")
        out[series] = [
            (b.get_attribute("data-day"), int(b.get_attribute("data-value"))) for b in bars.all()
        ]
    return out


def _want(expected: list[dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    return {s: [(d["day"], d[s]) for d in expected] for s in SERIES}


def test_an_empty_server_says_there_is_nothing_yet(own_server, open_page) -> None:
    """First in the module: the `world` fixture has not planted anything on own_server yet."""
    with own_server.client() as client:
        assert client.get("/v1/trends", params={"days": 7}).json()["overall"][-1]["scored"] == 0
    page = _open(open_page, own_server, "vi")
    expect(page.locator("#alerts-empty")).to_have_text(WORDS["vi"]["none"])
    expect(page.locator("#trend-empty")).to_have_text("Chưa có số liệu nào trong 7 ngày gần nhất.")
    page.select_option("#lang-select", "en")
    expect(page.locator("#trend-empty")).to_have_text("Nothing in the last 7 days yet.")
    expect(page.locator("#alerts-empty")).to_have_text(WORDS["en"]["none"])
    page.goto(f"{own_server.url}/#/sellers")
    expect(page.locator("#sellers-empty")).to_have_text("No sellers match.")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_charts_have_a_bar_per_day_with_the_counts(
    own_server, world, open_page, shot, lang
) -> None:
    page = _open(open_page, own_server, lang)
    charts = page.locator("#trend-charts > li")
    expect(charts).to_have_count(3)
    for n, label in enumerate(WORDS[lang]["charts"]):
        expect(charts.nth(n).locator("h3")).to_contain_text(label)
    want = world.expected(7)
    assert _bars(page) == _want(want)
    assert sum(d["scored"] for d in want) == len({i["id"] for i in world.items.values()})
    assert len({d["day"] for d in want if d["scored"]}) == 4  # today, 1, 2 and 3 days back
    # Bars scale with their counts: the tallest is the day with the most photos.
    heights = [float(b.get_attribute("height")) for b in charts.first.locator("rect.bar").all()]
    busiest = max(range(7), key=lambda n: (want[n]["scored"], n))
    assert heights[busiest] == max(heights) > 0 and heights[0] == 0.0
    shot(page, f"dashboard-desktop-{lang}")

    page.select_option("#trend-view", "source:shopee")
    expect(page).to_have_url(re.compile(r"view=source%3Ashopee"))
    assert _bars(page) == _want(world.expected(7, source="shopee"))
    page.select_option("#trend-view", f"category:{SHOES}")
    assert _bars(page) == _want(world.expected(7, category=SHOES))
    page.select_option("#trend-days", "30")
    expect(charts.first.locator("rect.bar")).to_have_count(30)
    assert _bars(page) == _want(world.expected(30, category=SHOES))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_open_alerts_with_their_evidence(own_server, world, open_page, lang) -> None:
    with own_server.client() as client:
        api = client.get("/v1/alerts", params={"acknowledged": "false"}).json()["alerts"]
    kinds = {a["kind"] for a in api}
    assert {"known_counterfeit", "linked_seller"} <= kinds, api
    page = _open(open_page, own_server, lang)
    cards = page.locator("#alert-list > li.alert-card")
    expect(cards).to_have_count(len(api))
    assert [c.get_attribute("data-alert-id") for c in cards.all()] == [a["id"] for a in api]
    expect(page.locator("#alerts-count")).to_have_text(f"({len(api)})")

    linked = page.locator("li.alert-card[data-kind=linked_seller]")
    expect(linked.locator(".alert-kind")).to_have_text(WORDS[lang]["linked_seller"])
    expect(linked.locator(".alert-seller a")).to_have_text("tiktok / fake-again")
    expect(linked.locator(".alert-linked a")).to_have_text("shopee / fake-shop")
    expect(linked.locator(".alert-detail-list")).to_contain_text(WORDS[lang]["why"])
    known = page.locator("li.alert-card[data-kind=known_counterfeit]")
    expect(known.locator(".alert-kind")).to_have_text(WORDS[lang]["known_counterfeit"])
    expect(known.locator(".alert-detail-list")).to_contain_text("T1")
    photo = known.locator(f"a.alert-photo[data-item-id='{world.counterfeit_item}'] img")
    expect(photo).not_to_have_js_property("naturalWidth", 0)
    expect(known.get_by_role("button", name=WORDS[lang]["ack"])).to_be_visible()
    # The seller in the evidence opens the seller's page.
    linked.locator(".alert-seller a").click()
    expect(page).to_have_url(re.compile(r"#/seller/tiktok/fake-again$"))


def test_acknowledging_removes_the_alert(own_server, world, open_page) -> None:
    page = _open(open_page, own_server, "vi")
    cards = page.locator("#alert-list > li.alert-card")
    expect(cards.first).to_be_visible()
    before = cards.count()
    linked = page.locator("li.alert-card[data-kind=linked_seller]")
    alert_id = linked.get_attribute("data-alert-id")
    linked.get_by_role("button", name=WORDS["vi"]["ack"]).click()
    expect(linked).to_have_count(0)
    expect(cards).to_have_count(before - 1)
    expect(page.locator("#alerts-count")).to_have_text(f"({before - 1})")
    with own_server.client() as client:
        stored = {a["id"]: a for a in client.get("/v1/alerts").json()["alerts"]}
    assert stored[alert_id]["acknowledged"] is True
    page.reload()
    expect(cards).to_have_count(before - 1)
    for n in range(before - 1, 0, -1):  # the rest, one by one, down to the empty state
        cards.first.get_by_role("button", name=WORDS["vi"]["ack"]).click()
        expect(cards).to_have_count(n - 1)
    expect(page.locator("#alerts-empty")).to_have_text(WORDS["vi"]["none"])
    expect(page.locator("#alerts-count")).to_have_text("(0)")
    with own_server.client() as client:
        assert client.get("/v1/alerts", params={"acknowledged": "false"}).json()["total"] == 0


def test_keyed_server_asks_for_the_key_and_says_what_is_missing(keyed_server, open_page) -> None:
    page = open_page(f"{keyed_server.url}/#/dashboard")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Hủy").click()
    errors = page.locator("main [role=alert]")
    expect(errors).to_have_count(2)  # the alerts and the trends, each with its own retry
    expect(errors.first).to_contain_text("Cần khóa truy cập hợp lệ")
    errors.first.get_by_role("button", name="Thử lại").click()
    page.get_by_label("Khóa truy cập", exact=True).fill(KEY)
    dialog.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator("#alerts-empty")).to_have_text(WORDS["vi"]["none"])
    errors.last.get_by_role("button", name="Thử lại").click()
    # Only the access test's photo (if it ran first) may be there: charts or the empty note.
    expect(page.locator("#trend-charts, #trend-empty")).to_have_count(1)
