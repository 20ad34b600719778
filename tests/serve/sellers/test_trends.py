"""GET /v1/trends: per-day counts overall, per source and per category, equal to counts made
directly from the rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from counterscan.serve.storage import schema as s
from counterscan.serve.storage.trends import trends


def _score(client: Any, data: bytes, **form: Any) -> dict[str, Any]:
    r = client.post("/v1/score", files={"image": ("p.jpg", data, "image/jpeg")}, data=form)
    assert r.status_code == 200, r.text
    return r.json()


def test_trend_counts_equal_the_rows(make_client, db_url, make_image) -> None:
    client = make_client(db=db_url)
    store = client.app.state.store
    made = []
    for n in range(8):
        src = ("shopee", "tiktok", None)[n % 3]
        form = {"listing_id": f"L{n // 2}", "category": ("giày", "chè")[n % 2]}
        if src:
            form["source"] = src
        made.append(_score(client, make_image(seed=n), **form))
    for item in made[:3]:
        client.post(f"/v1/items/{item['id']}/verdict", json={"verdict": "counterfeit"})
    client.post(f"/v1/items/{made[3]['id']}/verdict", json={"verdict": "genuine"})
    now = datetime.now(UTC)
    with store.write() as conn:  # two photos and a verdict back to yesterday, one out of range
        yesterday = now - timedelta(days=1)
        for item_id in (made[4]["id"], made[5]["id"]):
            conn.execute(
                update(s.items).where(s.items.c.id == item_id).values(created_at=yesterday)
            )
        conn.execute(
            update(s.verdicts)
            .where(s.verdicts.c.item_id == made[0]["id"])
            .values(created_at=yesterday)
        )
        conn.execute(
            update(s.items)
            .where(s.items.c.id == made[7]["id"])
            .values(created_at=now - timedelta(days=9))
        )
    body = client.get("/v1/trends", params={"days": 3}).json()
    assert [d["day"] for d in body["overall"]] == [
        (now - timedelta(days=k)).date().isoformat() for k in (2, 1, 0)
    ]

    # Direct counts from the rows.
    with store.read() as conn:
        items = conn.execute(
            select(s.items.c.id, s.items.c.created_at, s.items.c.priority, s.items.c.source)
        ).all()
        verdicts = conn.execute(
            select(s.verdicts.c.item_id, s.verdicts.c.created_at, s.verdicts.c.verdict)
        ).all()
        cats = conn.execute(
            select(s.listing_items.c.item_id, s.listings.c.category).join(
                s.listings, s.listings.c.id == s.listing_items.c.listing_ref
            )
        ).all()
    category = dict(cats)
    source = {i.id: i.source or "" for i in items}
    expected: Counter = Counter()
    for i in items:
        day = i.created_at.astimezone(UTC).date().isoformat()
        for group in ("overall", f"s:{source[i.id]}", f"c:{category[i.id]}"):
            expected[(group, day, "scored")] += 1
            expected[(group, day, "high")] += i.priority == "high"
    for v in verdicts:
        if v.verdict == "counterfeit":
            day = v.created_at.astimezone(UTC).date().isoformat()
            for group in ("overall", f"s:{source[v.item_id]}", f"c:{category[v.item_id]}"):
                expected[(group, day, "counterfeit")] += 1
    got: Counter = Counter()
    series = [("overall", body["overall"])]
    series += [(f"s:{k}", v) for k, v in body["by_source"].items()]
    series += [(f"c:{k}", v) for k, v in body["by_category"].items()]
    for group, days in series:
        for d in days:
            for key in ("scored", "high", "counterfeit"):
                got[(group, d["day"], key)] += d[key]
    window = {d["day"] for d in body["overall"]}
    assert +got == +Counter({k: n for k, n in expected.items() if k[1] in window})
    assert sum(d["scored"] for d in body["overall"]) == 7  # the one 9 days old is outside
    assert sum(d["counterfeit"] for d in body["overall"]) == 3
    assert set(body["by_source"]) == {"shopee", "tiktok", ""}
    assert client.get("/v1/trends", params={"days": 0}).status_code == 422


def test_the_window_follows_the_clock(store) -> None:
    with store.read() as conn:
        body = trends(conn, 2, now=datetime(2026, 3, 1, 0, 30, tzinfo=UTC))
    assert [d["day"] for d in body["overall"]] == ["2026-02-28", "2026-03-01"]
    assert body["overall"][0] == {"day": "2026-02-28", "scored": 0, "high": 0, "counterfeit": 0}
