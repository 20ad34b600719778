"""Sellers planted through the real scoring API for the console's early-warning pages: a
counterfeit shop with a confirmed counterfeit photo, the same seller back on another platform
(the photo and phone number again), a genuine shop and a quiet one; listings in two categories.

The API stamps every photo with the time it was scored, so to give the trend charts more than
one day, a few photos are then moved back a day or more in the server's own SQLite file (the
only write that does not go through the API). What the pages must show is computed here from
the API's answers about each photo, never from the trends route the page itself reads.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers.photos import encode, labelled_photo

SHOES, TEA = "Giày thể thao", "Chè Thái Nguyên"
PHONE = "0912345678"
# (source, seller_id, seller_name, listing_id, photo seed, counterfeit-looking, extra fields)
LISTINGS: list[tuple[str, str, str, str, int, bool, dict[str, str]]] = [
    ("shopee", "fake-shop", "Giày Hiệu Giá Rẻ", "F1", 11, True,
     {"title": "Giày Nik3 Air Force 1", "text": "Zalo 0912 345 678", "category": SHOES, "price": "350000"}),
    ("shopee", "fake-shop", "Giày Hiệu Giá Rẻ", "F2", 12, True, {"category": SHOES, "price": "390000"}),
    ("shopee", "fake-shop", "Giày Hiệu Giá Rẻ", "F3", 13, True, {"category": SHOES}),
    ("tiktok", "fake-again", "Shop Giày Mới", "T1", 11, True,
     {"title": "Giày AF1 giá sốc", "text": "lh +84 912 345 678", "category": SHOES}),
    ("tiktok", "fake-again", "Shop Giày Mới", "T2", 14, True, {"category": SHOES}),
    ("shopee", "honest-shop", "Cửa hàng Chính Hãng", "G1", 21, False,
     {"title": "Chè Thái Nguyên loại 1", "category": TEA, "price": "120000"}),
    ("shopee", "honest-shop", "Cửa hàng Chính Hãng", "G2", 22, False, {"category": TEA}),
    ("lazada", "plain-shop", "", "L1", 31, False, {"title": "Ấm pha trà", "price": "250000"}),
]  # fmt: skip
# Photos moved back in time (by listing id), so the charts have several days.
DAYS_BACK = {"G1": 3, "G2": 3, "F2": 2, "L1": 1}


@dataclass
class World:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # listing id -> item
    counterfeit_item: str = ""  # F1's photo, confirmed counterfeit (today)
    genuine_item: str = ""  # G1's photo, confirmed genuine

    def expected(
        self, days: int, source: str | None = None, category: str | None = None
    ) -> list[dict[str, Any]]:
        """Per UTC day (oldest first), what /v1/trends must count: photos scored, at high
        priority now, counterfeit verdicts; overall, for one source or for one category."""
        today = datetime.now(UTC).date()
        scored: Counter[date] = Counter()
        high: Counter[date] = Counter()
        counterfeit: Counter[date] = Counter()
        in_category = {
            self.items[listing]["id"] for *_, listing, _, _, extra in LISTINGS
            if extra.get("category") == category
        }  # fmt: skip
        for item in {i["id"]: i for i in self.items.values()}.values():
            if source is not None and item["source"] != source:
                continue
            if category is not None and item["id"] not in in_category:
                continue
            day = datetime.fromisoformat(item["created_at"]).astimezone(UTC).date()
            scored[day] += 1
            high[day] += item["priority"] == "high"
            counterfeit[today] += item["id"] == self.counterfeit_item  # its verdict: today
        out = []
        for n in range(days - 1, -1, -1):
            day = today - timedelta(days=n)
            out.append(
                {"day": day.isoformat(), "scored": scored[day], "high": high[day],
                 "counterfeit": counterfeit[day]}
            )  # fmt: skip
        return out


def plant(server: Any) -> World:
    """Score the listings through /v1/score (F1 confirmed counterfeit before the same seller
    comes back as T1, so that raises its alerts), confirm G1 genuine, move some photos back."""
    world = World()
    for source, seller, name, listing, seed, fake, extra in LISTINGS:
        photo = encode(labelled_photo(fake, seed, size=240))
        fields = {"source": source, "seller_id": seller, "listing_id": listing, **extra}
        fields["url"] = f"https://{source}.example/{seller}/{listing}"
        if name:
            fields["seller_name"] = name
        world.items[listing] = server.score(photo, **fields)
        if listing in ("F1", "G1"):
            _verdict(server, world.items[listing]["id"], "counterfeit" if fake else "genuine")
    world.counterfeit_item = world.items["F1"]["id"]
    world.genuine_item = world.items["G1"]["id"]
    _move_back(server.db_path, {world.items[k]["id"]: n for k, n in DAYS_BACK.items()})
    with server.client() as client:  # the photos as the API now sees them (day, priority)
        for listing, item in world.items.items():
            r = client.get(f"/v1/items/{item['id']}")
            assert r.status_code == 200, r.text
            world.items[listing] = r.json()
    return world


def _move_back(db_path: Path, days_back: dict[str, int]) -> None:
    with sqlite3.connect(db_path) as conn:
        for item_id, n in days_back.items():
            (stamp,) = conn.execute(
                "SELECT created_at FROM items WHERE id = ?", (item_id,)
            ).fetchone()
            day = date.fromisoformat(stamp[:10]) - timedelta(days=n)
            conn.execute(
                "UPDATE items SET created_at = ? WHERE id = ?",
                (day.isoformat() + stamp[10:], item_id),
            )
        # Counts of past days are kept once counted (storage/trends.py); edits made in SQL
        # behind the server's back are seen once the kept days are dropped.
        conn.execute("DELETE FROM trend_days")


def _verdict(server: Any, item_id: str, verdict: str) -> None:
    with server.client() as client:
        r = client.post(f"/v1/items/{item_id}/verdict", json={"verdict": verdict})
        assert r.status_code == 200, r.text
