"""A simulated month of crawling, sent through the batch API: genuine shops and counterfeit
sellers on several platforms, inspectors' verdicts along the way.

    python bench/simulate_month.py --url http://127.0.0.1:8000 --key KEY [--scale 1] [--seed 0]

What it plants (`plan_month`), day by day:
- genuine shops: the brand named plainly, usual prices, some photos shared between shops
  (stock pictures from the brand), a hotline of their own; inspectors confirm some genuine;
- counterfeit sellers: disguised brand names ("N.i.k.e", "Nik3", "adidass"), prices far below
  the usual, a phone number or Zalo id in the text, fresh photos for every listing; inspectors
  confirm one photo of each counterfeit after a few days;
- one counterfeit seller re-appearing late in the month on another platform under a new
  seller id, with one of its confirmed photos and the same phone number (written differently).

The server stamps times itself: the simulated days give the order of events, not their dates.
`run(client, plan)` works with any client that has `.post(path, json=, headers=)` (httpx,
FastAPI's TestClient); it returns what was planted, for checks (tests/serve/sellers/).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import random
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

PLATFORMS = ("shopee", "lazada", "tiktok", "facebook")
CATEGORIES = {"Nike Air Force 1": 2_200_000, "Adidas Superstar": 2_000_000}
DISGUISES = {"Nike Air Force 1": ("N.i.k.e", "Nik3", "ni ke"), "Adidas Superstar": ("adidass", "A.d.i.d.a.s")}  # fmt: skip
PHONE_SPELLINGS = ("0{a} {b} {c}", "+84 {a2} {b}.{c}", "84-{a2}-{b}-{c}", "0{a}.{b}.{c}")


@dataclass
class Plan:
    days: list[dict[str, Any]] = field(default_factory=list)  # {"items": [...], "verdicts": [...]}
    genuine: list[tuple[str, str]] = field(default_factory=list)  # (source, seller_id)
    counterfeit: list[tuple[str, str]] = field(default_factory=list)
    reappeared: tuple[tuple[str, str], tuple[str, str]] | None = None  # (new, old)


def photo(seed: int, counterfeit: bool) -> bytes:
    """A drawn product photo, different per seed (a shoe-like shape; fakes a faint tag)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(60, 200, (3, 3, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((160, 120), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    x, y = (int(v) for v in rng.integers(20, 60, 2))
    draw.ellipse((x, y, x + 80, y + 40), fill=(235, 235, 235))
    if counterfeit:  # a fake's tag is often too small for the model: the ranking must come
        # from the listing's words, its price, the verdicts and the links (tested so)
        draw.rectangle((x + 10, y + 5, x + 13, y + 8), fill=(205, 190, 190))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88)
    return buf.getvalue()


def _phone(rng: random.Random) -> tuple[str, str]:
    """A mobile number: (normalised, written in one of the common spellings)."""
    digits = f"9{rng.randrange(10)}{rng.randrange(10**7):07d}"
    parts = {"a": digits[:3], "a2": digits[:3], "b": digits[3:6], "c": digits[6:]}
    return "0" + digits, rng.choice(PHONE_SPELLINGS).format(**parts)


def plan_month(scale: int = 1, seed: int = 0, days: int = 30) -> Plan:
    """The month's batches and verdicts (deterministic for a seed); `scale` multiplies the
    number of sellers (1: 4 genuine shops, 3 counterfeit sellers)."""
    rng = random.Random(seed)
    plan = Plan(days=[{"items": [], "verdicts": []} for _ in range(days)])
    photo_seed = iter(range(seed * 1_000_000, seed * 1_000_000 + 1_000_000))
    stock = {cat: [photo(next(photo_seed), False) for _ in range(2)] for cat in CATEGORIES}
    for n in range(4 * scale):
        source, seller = PLATFORMS[n % len(PLATFORMS)], f"shop-{n}"
        plan.genuine.append((source, seller))
        _, hotline = _phone(rng)
        for k in range(3):
            cat = list(CATEGORIES)[(n + k) % len(CATEGORIES)]
            brand = cat.split()[0]
            day = rng.randrange(0, days // 3) if k < 2 else rng.randrange(days // 3, days)
            photos = [photo(next(photo_seed), False)]
            if n % 2 == 0:
                photos.append(stock[cat][k % 2])  # the brand's stock picture, shared
            price = CATEGORIES[cat] * rng.uniform(0.9, 1.15)
            listing = {
                "source": source, "listing_id": f"{seller}-{k}", "seller_id": seller,
                "seller_name": f"{brand} Store {n}", "title": f"Giày {cat} chính hãng",
                "text": f"Hàng chính hãng, bảo hành 12 tháng. Hotline {hotline}",
                "price": round(price, -3), "category": cat,
                "url": f"https://{source}.example/{seller}/{k}",
            }  # fmt: skip
            tags = _add(plan, day, listing, photos, tag=f"{seller}-{k}")
            if k == 0:  # the first listing of each shop confirmed genuine early on
                plan.days[min(day + 1, days - 1)]["verdicts"].append((tags[0], "genuine"))
    for n in range(3 * scale):
        source, seller = PLATFORMS[(n + 1) % len(PLATFORMS)], f"deal-{n}"
        plan.counterfeit.append((source, seller))
        number, written = _phone(rng)
        for k in range(4):
            cat = list(CATEGORIES)[(n + k) % len(CATEGORIES)]
            day = min(days - 1, days // 3 + 2 * k + n % 3)
            listing = {
                "source": source, "listing_id": f"{seller}-{k}", "seller_id": seller,
                "title": f"Giày {rng.choice(DISGUISES[cat])} {cat.split(' ', 1)[1]} giá sốc",
                "text": f"Hàng đẹp như auth, ib zalo {written}",
                "price": round(CATEGORIES[cat] * rng.uniform(0.2, 0.35), -3), "category": cat,
            }  # fmt: skip
            photos = [photo(next(photo_seed), True) for _ in range(2)]
            tags = _add(plan, day, listing, photos, tag=f"{seller}-{k}")
            if k == 0:
                plan.days[min(day + 2, days - 1)]["verdicts"].append((tags[0], "counterfeit"))
            if n == 0 and k == 0:
                reused, phone_again = photos[0], number
        if n == 0:  # back late in the month, elsewhere, under a new id
            new_source = PLATFORMS[(n + 3) % len(PLATFORMS)]
            new = (new_source, f"{seller}-again")
            again = {
                "source": new_source, "listing_id": f"{seller}-again-0", "seller_id": new[1],
                "title": "Giày thể thao giá rẻ", "text": f"LH {phone_again[:4]}.{phone_again[4:7]}.{phone_again[7:]}",
                "price": 650_000.0, "category": "Nike Air Force 1",
            }  # fmt: skip
            _add(plan, days - 2, again, [reused, photo(next(photo_seed), True)], tag=new[1])
            plan.reappeared = (new, (source, seller))
            plan.counterfeit.append(new)
    return plan


def _add(plan: Plan, day: int, listing: dict[str, Any], photos: list[bytes], tag: str) -> list[str]:
    tags = []
    for i, data in enumerate(photos):
        item = dict(listing, image_base64=base64.b64encode(data).decode())
        tags.append(f"{tag}/p{i}")
        plan.days[day]["items"].append((tags[-1], item))
    return tags


def run(
    client: Any, plan: Plan, headers: dict[str, str] | None = None, batch: int = 32
) -> dict[str, str]:
    """Send the month: each day's photos in batches (JSON), then that day's verdicts. Returns
    tag -> item id. Raises RuntimeError on any refused request or photo."""
    ids: dict[str, str] = {}
    for day in plan.days:
        entries = day["items"]
        for start in range(0, len(entries), batch):
            chunk = entries[start : start + batch]
            r = client.post(
                "/v1/score/batch", json={"items": [item for _, item in chunk]}, headers=headers
            )
            if r.status_code != 200:
                raise RuntimeError(f"batch refused: {r.status_code} {r.text[:200]}")
            for (tag, _), result in zip(chunk, r.json()["results"], strict=True):
                if not result["ok"]:
                    raise RuntimeError(f"{tag} refused: {result['error']}")
                ids[tag] = result["id"]
        for tag, verdict in day["verdicts"]:
            body = {"verdict": verdict, "note": "simulated month", "inspector": "sim"}
            r = client.post(f"/v1/items/{ids[tag]}/verdict", json=body, headers=headers)
            if r.status_code != 200:
                raise RuntimeError(f"verdict refused: {r.status_code} {r.text[:200]}")
    return ids


def main(argv: list[str] | None = None) -> int:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", default=None, help="an inspector's or admin's API key")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    plan = plan_month(args.scale, args.seed)
    headers = {"X-API-Key": args.key} if args.key else None
    with httpx.Client(base_url=args.url, timeout=120) as client:
        ids = run(client, plan, headers)
    summary = {"photos": len(ids), "genuine": plan.genuine, "counterfeit": plan.counterfeit}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
