"""Signals that need the database, through the API: a low price against the category's
listings confirmed genuine, and a photo confirmed counterfeit shown again in a new listing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from counterscan.serve.storage import schema as s


def _score(client: Any, data: bytes, **form: Any) -> dict[str, Any]:
    r = client.post("/v1/score", files={"image": ("p.jpg", data, "image/jpeg")}, data=form)
    assert r.status_code == 200, r.text
    return r.json()


def _reasons(client: Any, source: str, listing_id: str) -> dict[str, str]:
    t = s.listings.c
    with client.app.state.store.read() as conn:
        raw = conn.execute(
            select(t.reasons).where(t.source == source, t.listing_id == listing_id)
        ).scalar_one()
    return {r["signal"]: r["detail"] for r in json.loads(raw)}


def _verdict(client: Any, item_id: str, verdict: str) -> None:
    r = client.post(f"/v1/items/{item_id}/verdict", json={"verdict": verdict, "note": "t"})
    assert r.status_code == 200, r.text


def test_low_price_needs_enough_genuine_listings(make_client, db_url, make_image) -> None:
    client = make_client(db=db_url, low_price_ratio=0.5, low_price_min_samples=3)
    shoe = {"source": "shop", "category": "Nike Air Force 1"}
    for n, price in enumerate((2_000_000, 2_400_000, 2_200_000)):
        item = _score(client, make_image(seed=n), listing_id=f"G{n}", price=str(price), **shoe)
        _verdict(client, item["id"], "genuine")
        if n == 1:  # two genuine listings: no typical price yet
            _score(client, make_image(seed=50), listing_id="early", price="500000", **shoe)
            assert "low_price" not in _reasons(client, "shop", "early")
    _score(client, make_image(seed=51), listing_id="cheap", price="900000", **shoe)
    assert "2,200,000" in _reasons(client, "shop", "cheap")["low_price"]
    _score(client, make_image(seed=52), listing_id="fair", price="1500000", **shoe)
    assert "low_price" not in _reasons(client, "shop", "fair")
    # Another category has no typical price of its own.
    _score(
        client, make_image(seed=53), listing_id="tea", price="1000", source="shop", category="chè"
    )
    assert "low_price" not in _reasons(client, "shop", "tea")


def test_a_confirmed_counterfeit_photo_in_a_new_listing(make_client, db_url, make_image):
    client = make_client(db=db_url)
    fake = make_image(seed=9)
    first = _score(client, fake, listing_id="A", source="shopee", seller_id="s1")
    assert "known_counterfeit" not in _reasons(client, "shopee", "A")
    _verdict(client, first["id"], "counterfeit")
    _score(client, fake, listing_id="B", source="tiktok", seller_id="s2")
    assert first["id"] in _reasons(client, "tiktok", "B")["known_counterfeit"]
