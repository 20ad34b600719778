"""Early-warning rules, evaluated as each listing is recorded (in its transaction), each alert
stored once with its evidence (storage/alerts.py). Thresholds: settings.py `alert_*`.

- known_counterfeit: a listing seen for the first time shows a photo confirmed counterfeit or
  matching one (its `known_counterfeit` signal). Once per listing.
- seller_repeat: a seller has `alert_repeat_count` (5) listings with a photo at priority high
  first seen within `alert_repeat_days` (7). Once per seller.
- linked_seller: a seller first seen within `alert_new_seller_days` (7) shares a phone number,
  Zalo id or photo with a seller that has a photo confirmed counterfeit. Once per seller.
- surge: today's (UTC) count of items at priority high from one source, or in one category,
  exceeds mean + `alert_surge_sigmas` (3) x the standard deviation of the previous
  `alert_surge_days` (7) daily counts (zeros included), and is at least `alert_surge_min` (5).
  Once per source or category and day. `now` is injectable for tests. Bounded by indexes:
  items (source, priority, created_at), listings (category, last_seen) (a listing is last seen
  no earlier than its photos were scored).
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, tuple_

from counterscan.contract import HIGH
from counterscan.serve.settings import Settings
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.alerts import raise_alert


def evaluate(
    conn: Connection,
    settings: Settings,
    listing: dict[str, Any],
    photos: list[dict[str, Any]],
    reasons: list[dict[str, str]],
    now: datetime,
) -> None:
    """Every rule for a listing just recorded (`listing`: its row)."""
    seller = None
    if listing["seller_ref"] is not None:
        seller = (
            conn.execute(select(s.sellers).where(s.sellers.c.id == listing["seller_ref"]))
            .mappings()
            .one()
        )
    who = {"source": listing["source"], "seller_id": seller["seller_id"] if seller else None}
    known = next((r for r in reasons if r["signal"] == "known_counterfeit"), None)
    if known and listing["first_seen"] == listing["last_seen"]:
        raise_alert(
            conn, "known_counterfeit", f"{listing['source']}:{listing['listing_id']}", now=now,
            item_ids=[p["id"] for p in photos if p["verdict"] == "counterfeit" or p["priority_reason"]],
            detail={"listing_id": listing["listing_id"], "evidence": known["detail"]}, **who,
        )  # fmt: skip
    if seller is not None:
        _seller_repeat(conn, settings, seller, who, now)
        _linked_seller(conn, settings, seller, who, now)
    _surges(conn, settings, listing, now)


def _seller_repeat(
    conn: Connection, settings: Settings, seller: Any, who: dict, now: datetime
) -> None:
    lt, li, i = s.listings.c, s.listing_items.c, s.items.c
    since = now - timedelta(days=settings.alert_repeat_days)
    rows = conn.execute(
        select(lt.id, i.id)
        .select_from(
            s.listings.join(s.listing_items, li.listing_ref == lt.id).join(
                s.items, i.id == li.item_id
            )
        )
        .where(lt.seller_ref == seller["id"], lt.first_seen >= since, i.priority == HIGH)
    ).all()
    listings = {r[0] for r in rows}
    if len(listings) >= settings.alert_repeat_count:
        raise_alert(
            conn, "seller_repeat", f"{seller['source']}:{seller['seller_id']}", now=now,
            item_ids=sorted({r[1] for r in rows}),
            detail={"high_listings": len(listings), "days": settings.alert_repeat_days,
                    "threshold": settings.alert_repeat_count}, **who,
        )  # fmt: skip


def _linked_seller(
    conn: Connection, settings: Settings, seller: Any, who: dict, now: datetime
) -> None:
    if seller["first_seen"] < now - timedelta(days=settings.alert_new_seller_days):
        return
    c, lt, li, i, v = s.seller_contacts.c, s.listings.c, s.listing_items.c, s.items.c, s.verdicts.c
    mine = conn.execute(select(c.kind, c.value).where(c.seller_ref == seller["id"])).all()
    links: dict[int, list[str]] = {}
    if mine:
        for ref, kind, value in conn.execute(
            select(c.seller_ref, c.kind, c.value).where(
                tuple_(c.kind, c.value).in_([tuple(m) for m in mine]), c.seller_ref != seller["id"]
            )
        ):
            links.setdefault(ref, []).append(f"same {kind} {value}")
    owned = select(i.sha256).select_from(s.listings.join(s.listing_items, li.listing_ref == lt.id).join(s.items, i.id == li.item_id)).where(lt.seller_ref == seller["id"])  # fmt: skip
    for ref, sha in conn.execute(
        select(lt.seller_ref, i.sha256)
        .select_from(
            s.listings.join(s.listing_items, li.listing_ref == lt.id).join(
                s.items, i.id == li.item_id
            )
        )
        .where(i.sha256.in_(owned), lt.seller_ref != seller["id"], lt.seller_ref.is_not(None))
        .distinct()
    ):
        links.setdefault(ref, []).append(f"same photo {sha[:12]}")
    if not links:
        return
    bad = conn.execute(
        select(lt.seller_ref, func.min(i.id), s.sellers.c.source, s.sellers.c.seller_id)
        .select_from(
            s.listings.join(s.listing_items, li.listing_ref == lt.id)
            .join(s.items, i.id == li.item_id)
            .join(s.verdicts, v.id == i.verdict_id)
            .join(s.sellers, s.sellers.c.id == lt.seller_ref)
        )
        .where(lt.seller_ref.in_(list(links)), v.verdict == "counterfeit")
        .group_by(lt.seller_ref, s.sellers.c.source, s.sellers.c.seller_id)
    ).all()
    if bad:
        ref, item_id, src, sid = sorted(bad, key=lambda r: (r[2], r[3]))[0]
        raise_alert(
            conn, "linked_seller", f"{seller['source']}:{seller['seller_id']}", now=now,
            item_ids=[item_id],
            detail={"linked_to": {"source": src, "seller_id": sid}, "why": sorted(set(links[ref]))}, **who,
        )  # fmt: skip


def _surges(conn: Connection, settings: Settings, listing: dict[str, Any], now: datetime) -> None:
    i, li, lt = s.items.c, s.listing_items.c, s.listings.c
    today = now.astimezone(UTC).date()
    start = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(
        days=settings.alert_surge_days
    )
    end = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
    groups = []
    if listing["source"]:
        groups.append(
            (
                "source",
                listing["source"],
                select(i.id, i.created_at).where(i.source == listing["source"]),
            )
        )
    if listing["category"]:
        cat = select(i.id, i.created_at).select_from(s.items.join(s.listing_items, li.item_id == i.id).join(s.listings, lt.id == li.listing_ref)).where(lt.category == listing["category"], lt.last_seen >= start).distinct()  # fmt: skip
        groups.append(("category", listing["category"], cat))
    for group, key, query in groups:
        q = query.where(i.priority == HIGH, i.created_at >= start, i.created_at < end)
        per_day = [0] * (settings.alert_surge_days + 1)
        for _id, moment in conn.execute(q):
            per_day[(moment.astimezone(UTC).date() - start.date()).days] += 1
        *before, count = per_day
        mean, sd = statistics.fmean(before), statistics.pstdev(before)
        limit = mean + settings.alert_surge_sigmas * sd
        if count >= settings.alert_surge_min and count > limit:
            raise_alert(
                conn, "surge", f"{group}:{key}:{today.isoformat()}", now=now,
                source=key if group == "source" else None,
                detail={group: key, "day": today.isoformat(), "high_items": count,
                        "baseline_mean": round(mean, 2), "baseline_sd": round(sd, 2),
                        "limit": round(limit, 2), "baseline_days": settings.alert_surge_days},
            )  # fmt: skip
