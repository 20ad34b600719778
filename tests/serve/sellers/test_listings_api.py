"""Listings and sellers as records through the scoring API (single, multipart batch, JSON
batch), on SQLite and PostgreSQL: one row per listing and per seller, a listing's score the
highest of its photos', fields checked with 422s naming the field."""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import func, select

from counterscan.serve.storage import schema as s
from counterscan.serve.storage.fields import MAX_LEN


def _rows(client: Any, table: Any) -> list[dict[str, Any]]:
    with client.app.state.store.read() as conn:
        return [dict(r) for r in conn.execute(select(table)).mappings()]


def _score(client: Any, data: bytes, **form: Any) -> Any:
    return client.post("/v1/score", files={"image": ("p.jpg", data, "image/jpeg")}, data=form)


LISTING = {
    "listing_id": "L-1",
    "source": "shopee",
    "url": "https://shopee.example/L-1",
    "seller_id": "S-1",
    "seller_name": "Giày Đẹp",
    "title": "Giày N.i.k.e Air Force 1",
    "text": "Liên hệ 0912 345 678, zalo: giaydep",
    "price": "150000",
    "category": "Nike Air Force 1",
}


def test_all_three_encodings_build_one_listing_and_seller(make_client, db_url, make_image):
    client = make_client(db=db_url)
    one = _score(client, make_image(seed=1), **LISTING).json()
    files = [("images", (f"{i}.jpg", make_image(seed=10 + i), "image/jpeg")) for i in range(2)]
    form = {k: [v, v] for k, v in LISTING.items()}
    batch = client.post("/v1/score/batch", files=files, data=form).json()["results"]
    items = [
        {"image_base64": base64.b64encode(make_image(seed=20)).decode(), **LISTING, "price": 90000}
    ]
    js = client.post("/v1/score/batch", json={"items": items}).json()["results"]
    assert all(r["ok"] for r in batch + js), (batch, js)

    (listing,) = _rows(client, s.listings)  # seen four times, one row
    (seller,) = _rows(client, s.sellers)
    assert (listing["source"], listing["listing_id"]) == ("shopee", "L-1")
    assert (seller["source"], seller["seller_id"], seller["name"]) == ("shopee", "S-1", "Giày Đẹp")
    assert listing["seller_ref"] == seller["id"]
    assert listing["price"] == 90000.0  # updated by the latest request
    photos = {r["item_id"] for r in _rows(client, s.listing_items)}
    scores = {one["id"]: one["score"]} | {r["id"]: r["score"] for r in batch + js}
    assert photos == set(scores)
    assert listing["score"] == max(scores.values())  # the listing's score: its worst photo
    signals = {r["signal"] for r in json.loads(listing["reasons"])}
    assert {"contact_details", "disguised_brand"} <= signals
    contacts = {(r["kind"], r["value"]) for r in _rows(client, s.seller_contacts)}
    assert contacts == {("phone", "0912345678"), ("zalo", "giaydep")}


def test_fields_not_sent_again_are_kept(make_client, make_image):
    client = make_client()
    _score(client, make_image(seed=3), **LISTING)
    _score(client, make_image(seed=4), listing_id="L-1", source="shopee", price="120000")
    (listing,) = _rows(client, s.listings)
    assert listing["title"] == LISTING["title"] and listing["price"] == 120000.0
    # The same listing id on another platform is another listing.
    _score(client, make_image(seed=4), listing_id="L-1", source="tiktok")
    assert len(_rows(client, s.listings)) == 2


def test_bad_fields_are_422_naming_the_field(app_client, make_image):
    data = make_image(seed=5)
    cases = {
        "price": "cheap",
        "title": "x" * (MAX_LEN["title"] + 1),
        "seller_id": "s" * (MAX_LEN["seller_id"] + 1),
        "category": "bad\x00",
    }
    for field, value in cases.items():
        r = _score(app_client, data, listing_id="L-9", **{field: value})
        assert r.status_code == 422 and field in r.json()["detail"], (field, r.text)
    r = _score(app_client, data, listing_id="L-9", price="-5")
    assert r.status_code == 422 and "price" in r.json()["detail"]
    items = [
        {"image_base64": base64.b64encode(data).decode(), "price": "NaN"},
        {"image_base64": base64.b64encode(data).decode(), "price": True},
        {"image_base64": base64.b64encode(data).decode(), "text": "t" * 20_001},
        {"image_base64": base64.b64encode(data).decode(), "price": 1.5},
    ]
    res = app_client.post("/v1/score/batch", json={"items": items}).json()["results"]
    assert [r["ok"] for r in res] == [False, False, False, True]
    assert "price" in res[0]["error"]["detail"] and "text" in res[2]["error"]["detail"]
    with app_client.app.state.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(s.listings)).scalar_one() == 0
