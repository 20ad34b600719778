"""Early warnings: each rule raises its alert once, with its evidence; listed newest first,
acknowledged; on SQLite and PostgreSQL. seller_repeat and surge run on the store with an
injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from counterscan.serve.sellers.service import record
from counterscan.serve.settings import Settings
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.alerts import list_alerts
from counterscan.serve.storage.listings import ListingInput


def _score(client: Any, data: bytes, **form: Any) -> dict[str, Any]:
    r = client.post("/v1/score", files={"image": ("p.jpg", data, "image/jpeg")}, data=form)
    assert r.status_code == 200, r.text
    return r.json()


def test_known_photo_and_linked_seller(make_client, db_url, make_image) -> None:
    client = make_client(db=db_url)
    fake = make_image(seed=4)
    first = _score(client, fake, listing_id="A", source="shopee", seller_id="s1", text="0912345678")
    _score(client, make_image(seed=5), listing_id="H", source="shopee", seller_id="honest")
    assert client.get("/v1/alerts").json()["alerts"] == []
    client.post(f"/v1/items/{first['id']}/verdict", json={"verdict": "counterfeit"})
    for _ in range(2):  # seen twice: still one alert of each kind
        _score(
            client, fake, listing_id="B", source="tiktok", seller_id="s2", text="+84 912.345.678"
        )
    page = client.get("/v1/alerts").json()
    kinds = [a["kind"] for a in page["alerts"]]
    assert sorted(kinds) == ["known_counterfeit", "linked_seller"] and page["total"] == 2
    by_kind = {a["kind"]: a for a in page["alerts"]}
    linked = by_kind["linked_seller"]
    assert (linked["source"], linked["seller_id"]) == ("tiktok", "s2")
    assert linked["detail"]["linked_to"] == {"source": "shopee", "seller_id": "s1"}
    assert "same phone 0912345678" in linked["detail"]["why"]
    assert first["id"] in by_kind["known_counterfeit"]["item_ids"]
    created = [a["created_at"] for a in page["alerts"]]
    assert created == sorted(created, reverse=True)

    alert_id = linked["id"]
    acked = client.post(f"/v1/alerts/{alert_id}/ack").json()
    assert acked["acknowledged"] is True
    open_ = client.get("/v1/alerts", params={"acknowledged": "false"}).json()
    assert [a["kind"] for a in open_["alerts"]] == ["known_counterfeit"]
    assert client.post(f"/v1/alerts/{'0' * 32}/ack").status_code == 404
    assert client.post("/v1/alerts/..%2f/ack").status_code == 404


def _high(save_item, store, seed: int, when: datetime, **kw: Any) -> str:
    item = save_item(seed, priority="high", score=0.95, **kw)
    with store.write() as conn:
        conn.execute(update(s.items).where(s.items.c.id == item.id).values(created_at=when))
    return item.id


def test_seller_repeat_and_surge_with_a_clock(store, save_item) -> None:
    settings = Settings(model=None, alert_repeat_count=3, alert_surge_min=4)
    now = datetime(2026, 5, 20, 12, tzinfo=UTC)
    for day in range(1, 8):  # a baseline of one high item a day on shopee
        _high(save_item, store, 100 + day, now - timedelta(days=day), source="shopee")
    for n in range(5):
        item = _high(save_item, store, n + 1, now, source="shopee")
        info = ListingInput(source="shopee", listing_id=f"L{n}", seller_id="rep", category="giày")
        record(store, settings, [(info, [item])], now=now)
        with store.read() as conn:
            kinds = [a["kind"] for a in list_alerts(conn, acknowledged=None, limit=50, offset=0)[0]]
        assert kinds.count("seller_repeat") == (1 if n >= 2 else 0), (n, kinds)
        # Surge: 4 or more today, against one a day on shopee and none in the category before.
        assert kinds.count("surge") == (2 if n >= 3 else 0), (n, kinds)
    # A source whose baseline is as busy as today raises nothing.
    for day in range(1, 8):
        for k in range(5):
            _high(save_item, store, 1000 + 10 * day + k, now - timedelta(days=day), source="lazada")
    for n in range(5):
        item = _high(save_item, store, 2000 + n, now, source="lazada")
        record(
            store, settings, [(ListingInput(source="lazada", listing_id=f"Z{n}"), [item])], now=now
        )
    with store.read() as conn:
        rows = conn.execute(select(s.alerts)).all()
    keys = sorted(r.dedupe_key for r in rows if r.kind == "surge")
    assert keys == ["surge:category:giày:2026-05-20", "surge:source:shopee:2026-05-20"]
