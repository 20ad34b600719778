"""A large PostgreSQL database for bench_sellers_scale.py, filled with set-based SQL
(generate_series), not through the API: a million photos in minutes instead of hours.

Shape (all deterministic but the scores and days, drawn with a fixed seed):
- `sellers` sellers, each on one of six sources; `listings` = 0.8 x items listings spread evenly
  over them (listing l belongs to seller (l x 7919) mod sellers + 1), each in one of 20
  categories; item g is a photo of listing ceil(0.8 g), so a quarter of the listings have two
  photos, scored together;
- photos scored evenly over the last `days` days, rows written in the order they arrive (as a
  running server writes them: a day's photos, listings and links are near each other on disk);
- photo scores skewed low (u^3): about 5% at priority high;
- a verdict on every 40th photo (counterfeit when the photo is high or every third, else
  genuine), a day after it was scored;
- links: every 500th listing also shows a photo of listing l + 7 (another seller), and every
  25th seller writes a phone number shared by three such sellers;
- signals: disguised brand names on every 37th listing, contact details on every 19th;
- `alerts` alerts over the period, newest first by index, each with its (delivered) outbox row.
The stored seller risk is then computed by the server's own code (sellers.stored.backfill),
the path the tests prove equal to the formula from scratch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

SOURCES = ["shopee", "lazada", "tiki", "tiktok", "facebook", "zalo"]
CATEGORIES = [f"category-{n:02d}" for n in range(20)]

# Each step is one statement; :names are bound parameters.
STEPS: list[tuple[str, str]] = [
    (
        "sellers",
        """INSERT INTO sellers (source, seller_id, name, first_seen, last_seen)
        SELECT (CAST(:sources AS text[]))[s % 6 + 1], 'seller-' || s, 'Shop ' || s, now(), now()
        FROM generate_series(1, :sellers) s ORDER BY s""",
    ),
    (
        "listings",
        """INSERT INTO listings (source, listing_id, seller_ref, url, title, price, category,
            score, reasons, first_seen, last_seen)
        SELECT (CAST(:sources AS text[]))[((l::bigint * 7919) % :sellers + 1) % 6 + 1], 'listing-' || l,
            (l::bigint * 7919) % :sellers + 1, 'https://example.com/l/' || l,
            CASE WHEN l % 37 = 0 THEN 'N.i.k.e Air giá rẻ' ELSE 'Giày thể thao ' || l END,
            100000 + (l % 50) * 10000, (CAST(:categories AS text[]))[(l * 31) % 20 + 1], 0,
            CASE
              WHEN l % 37 = 0 THEN '[{"signal": "disguised_brand", "detail": "disguised brand name: \\"N.i.k.e\\" (nike)"}]'
              WHEN l % 19 = 0 THEN '[{"signal": "contact_details", "detail": "contact details in the listing: phone 0912345678"}]'
              ELSE '[]' END,
            now(), now()
        FROM generate_series(1, :listings) l ORDER BY l""",
    ),
    ("seed", "SELECT setseed(0.42)"),
    (
        "items",
        """INSERT INTO items (id, sha256, phash, score, priority, model_version, listing_id,
            source, url, created_at, width, height, priority_rank, status)
        SELECT lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0')
                || lpad(to_hex(g), 20, '0'),
            md5(g::text) || md5('photo' || g), substr(md5('p' || g), 1, 16), u,
            CASE WHEN u >= 0.85 THEN 'high' WHEN u >= 0.4 THEN 'medium' ELSE 'low' END,
            'bench-scale', 'listing-' || l, src, 'https://example.com/l/' || l, t, 640, 480,
            CASE WHEN u >= 0.85 THEN 0 WHEN u >= 0.4 THEN 1 ELSE 2 END, 'unreviewed'
        FROM (
            SELECT g, l, power(random(), 3) AS u,
                now() - make_interval(days => :days) * (1 - g::float8 / :items)
                    - random() * interval '1 minute' AS t,
                (CAST(:sources AS text[]))[(l::bigint * 7919 % :sellers + 1) % 6 + 1] AS src
            FROM (SELECT g, ceil(g * CAST(:listings AS float8) / :items)::int AS l
                  FROM generate_series(1, :items) g) gl
        ) x ORDER BY g""",
    ),
    (
        "listing photos",
        """INSERT INTO listing_items (listing_ref, item_id)
        SELECT l.id, i.id FROM items i JOIN listings l ON l.listing_id = i.listing_id
        ORDER BY i.id""",
    ),
    (
        "reused photos",
        """INSERT INTO listing_items (listing_ref, item_id)
        SELECT l.id, i.id FROM listings l
        JOIN listings o ON o.listing_id = 'listing-' || (substr(l.listing_id, 9)::int + 7)
        JOIN items i ON i.listing_id = o.listing_id
        WHERE substr(l.listing_id, 9)::int % 500 = 0
        ON CONFLICT DO NOTHING""",
    ),
    (
        "verdicts",
        """INSERT INTO verdicts (item_id, verdict, inspector, note, created_at)
        SELECT id,
            CASE WHEN priority = 'high' OR n % 3 = 0 THEN 'counterfeit' ELSE 'genuine' END,
            'bench', '', least(created_at + interval '1 day', now())
        FROM (SELECT id, priority, created_at, row_number() OVER (ORDER BY id) AS n
              FROM items) x
        WHERE n % 40 = 0""",
    ),
    (
        "items reviewed",
        """UPDATE items SET status = 'reviewed', verdict_id = v.id
        FROM verdicts v WHERE v.item_id = items.id""",
    ),
    (
        "listing scores",
        """UPDATE listings SET score = x.score, first_seen = x.first, last_seen = x.last
        FROM (SELECT li.listing_ref, max(i.score) AS score, min(i.created_at) AS first,
                max(i.created_at) AS last
              FROM listing_items li JOIN items i ON i.id = li.item_id
              GROUP BY li.listing_ref) x
        WHERE listings.id = x.listing_ref""",
    ),
    (
        "seller dates",
        """UPDATE sellers SET first_seen = x.first, last_seen = x.last
        FROM (SELECT seller_ref, min(first_seen) AS first, max(last_seen) AS last
              FROM listings GROUP BY seller_ref) x
        WHERE sellers.id = x.seller_ref""",
    ),
    (
        "contacts",
        """INSERT INTO seller_contacts (seller_ref, kind, value)
        SELECT s, 'phone', '09' || lpad((s / 75)::text, 8, '0')
        FROM generate_series(25, :sellers, 25) s""",
    ),
    (
        "alerts",
        """INSERT INTO alerts (id, kind, dedupe_key, created_at, source, seller_id, item_ids,
            detail, acknowledged_at, acknowledged_by)
        SELECT lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0')
                || lpad(to_hex(a), 20, 'f'),
            (ARRAY['known_counterfeit', 'seller_repeat', 'linked_seller', 'surge'])[a % 4 + 1],
            'bench:' || a, t, (CAST(:sources AS text[]))[a % 6 + 1], 'seller-' || (a * 13 % :sellers + 1),
            '[]', '{"rule": "bench"}', CASE WHEN a % 3 = 0 THEN t END,
            CASE WHEN a % 3 = 0 THEN 'bench' END
        FROM (SELECT a, now() - random() * make_interval(days => :days) AS t
              FROM generate_series(1, :alerts) a) x""",
    ),
    (
        "alert outbox",
        """INSERT INTO alert_outbox (alert_id, attempts, next_attempt_at, delivered_at)
        SELECT id, 1, created_at, created_at FROM alerts""",
    ),
]


def fill(
    conn: Connection, *, items: int, sellers: int, days: int, alerts: int, log: Any = print
) -> dict[str, float]:
    """Run every step in one transaction; returns seconds per step."""
    import time

    params = {
        "items": items,
        "sellers": sellers,
        "listings": max(1, items * 4 // 5),
        "days": days,
        "alerts": alerts,
        "sources": SOURCES,
        "categories": CATEGORIES,
    }
    took = {}
    for name, sql in STEPS:
        start = time.perf_counter()
        stmt = text(sql)
        wanted = {k: v for k, v in params.items() if f":{k}" in sql}
        conn.execute(stmt, wanted)
        took[name] = round(time.perf_counter() - start, 2)
        log(f"  {name}: {took[name]} s")
    return took
