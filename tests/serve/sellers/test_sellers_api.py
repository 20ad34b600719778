"""GET /v1/sellers and /v1/sellers/{source}/{seller_id}: risk ranking with reasons, links
through phone numbers and reused photos across platforms, filters and paging."""

from __future__ import annotations

from typing import Any


def _score(client: Any, data: bytes, **form: Any) -> dict[str, Any]:
    r = client.post("/v1/score", files={"image": ("p.jpg", data, "image/jpeg")}, data=form)
    assert r.status_code == 200, r.text
    return r.json()


def test_ranking_links_and_detail(make_client, db_url, make_image) -> None:
    client = make_client(db=db_url)
    fake = make_image(seed=1)
    bad = _score(
        client, fake, listing_id="F1", source="shopee", seller_id="fakes",
        title="Giày Nik3 giá sốc", text="Zalo 0912.345.678", category="giày",
    )  # fmt: skip
    _score(client, make_image(seed=2), listing_id="F2", source="shopee", seller_id="fakes")
    r = client.post(f"/v1/items/{bad['id']}/verdict", json={"verdict": "counterfeit"})
    assert r.status_code == 200
    # The same seller back on another platform: new id, the same photo and phone number.
    _score(
        client, fake, listing_id="T1", source="tiktok", seller_id="fakes2",
        text="lh +84 912 345 678",
    )  # fmt: skip
    shop = _score(
        client, make_image(seed=3), listing_id="G1", source="shopee", seller_id="shop",
        title="Giày Nike chính hãng", category="giày",
    )  # fmt: skip
    client.post(f"/v1/items/{shop['id']}/verdict", json={"verdict": "genuine"})

    page = client.get("/v1/sellers").json()
    order = [x["seller_id"] for x in page["sellers"]]
    assert set(order[:2]) == {"fakes", "fakes2"} and order[-1] == "shop", page
    by_id = {x["seller_id"]: x for x in page["sellers"]}
    top, again, honest = by_id["fakes"], by_id["fakes2"], by_id["shop"]
    assert top["risk"] >= 0.9 and top["confirmed_counterfeit"] == 1 and top["listings"] == 2
    assert any("confirmed counterfeit" in why for why in top["reasons"])
    (link,) = again["linked"]
    assert (link["source"], link["seller_id"]) == ("shopee", "fakes")
    assert any("phone 0912345678" in w for w in link["why"])
    assert any("photo" in w for w in link["why"])
    assert honest["risk"] < 0.5 and honest["linked"] == []
    assert all(0.0 <= x["risk"] <= 1.0 for x in page["sellers"])

    only = client.get("/v1/sellers", params={"source": "tiktok"}).json()
    assert [x["seller_id"] for x in only["sellers"]] == ["fakes2"]
    risky = client.get("/v1/sellers", params={"min_risk": 0.5}).json()
    assert {x["seller_id"] for x in risky["sellers"]} == {"fakes", "fakes2"}
    second = client.get("/v1/sellers", params={"limit": 1, "offset": 1}).json()
    assert second["total"] == 3 and second["sellers"] == page["sellers"][1:2]

    one = client.get("/v1/sellers/shopee/fakes").json()
    assert {x["listing_id"] for x in one["listing_details"]} == {"F1", "F2"}
    f1 = next(x for x in one["listing_details"] if x["listing_id"] == "F1")
    assert bad["id"] in f1["item_ids"]
    # Each photo with its priority and verdict, in the order of item_ids (the console's cards).
    assert [p["id"] for p in f1["photos"]] == f1["item_ids"]
    assert {p["id"]: p["verdict"] for p in f1["photos"]}[bad["id"]] == "counterfeit"
    assert {p["id"]: p["priority"] for p in f1["photos"]}[bad["id"]] == bad["priority"]
    assert {r["signal"] for r in f1["reasons"]} == {"disguised_brand", "contact_details"}
    assert client.get("/v1/sellers/shopee/nobody").status_code == 404
    assert client.get("/v1/sellers", params={"min_risk": 2}).status_code == 422


def test_crawlers_may_not_see_sellers(make_client, api_keys_setting, test_keys) -> None:
    client = make_client(api_keys=api_keys_setting)
    for path in ("/v1/sellers", "/v1/sellers/shopee/x"):
        r = client.get(path, headers={"X-API-Key": test_keys["crawler"]})
        assert r.status_code == 403, r.text
        r = client.get(path, headers={"X-API-Key": test_keys["inspector"]})
        assert r.status_code in (200, 404), r.text
