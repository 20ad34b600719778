"""Filling a benchmark database with millions of items fast: set-based SQL (generate_series) on
PostgreSQL, in chunks, so 10 million rows take minutes. Used by bench_scale.py.

Row g (0, 1, 2, ...) is made from g alone, so a database can be grown from 1 to 10 million:
- created_at: 2026-06-01 + 1.5 s per row (10 million rows span 174 days); the id is the store's
  format (12 hex digits of milliseconds, then g in 20 hex digits), so ids sort by time;
- score: u^4 for a uniform u (most listings look genuine; 4% of scores >= 0.85, 16% >= 0.5);
  priority high >= 0.85, medium >= 0.5, low below; model_version by age (three versions);
- source: one of five platforms; listing_id: one per three photos; 640x480;
- reviewed: every 500th row (0.2%), its verdict counterfeit (40%), genuine (55%), unsure (5%);
- similar-case vectors on every 50th row (2%): a fingerprint with per-row grey pixels and the
  colour histogram of one of 64 real photos; no embeddings. A real database holds a 4 kB
  fingerprint and a 5 kB embedding on every row (about 100 GB at 10 million rows), more than
  this machine's disk: the queue and verdict paths never read them, the re-flag scan does.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, text

SPACING_S = 1.5
REVIEWED_EVERY = 500
VECTORS_EVERY = 50
HISTOGRAMS = 64
# The filled verdicts' ids start here, so that the server's own (from the sequence, 1, 2, ...)
# never collide with those of a later fill when the database grows.
VERDICT_IDS = 1_000_000_000

_INSERT = """
WITH made AS (
INSERT INTO items (id, sha256, phash, score, priority, model_version, listing_id, source, url,
                   created_at, width, height, priority_rank, status, verdict_id, fingerprint)
SELECT lpad(to_hex((extract(epoch FROM r.ts) * 1000)::bigint), 12, '0') || lpad(to_hex(r.g), 20, '0'),
       encode(sha256(int8send(r.g)), 'hex'),
       substr(md5(r.g::text), 1, 16),
       r.score,
       CASE WHEN r.score >= 0.85 THEN 'high' WHEN r.score >= 0.5 THEN 'medium' ELSE 'low' END,
       CASE WHEN r.g < 3000000 THEN 'bench-2026.06' WHEN r.g < 7000000 THEN 'bench-2026.08'
            ELSE 'bench-2026.10' END,
       'L' || (r.g / 3)::text,
       (ARRAY['shopee','lazada','tiki','sendo','facebook'])[1 + r.g % 5],
       'https://example.com/listing/' || (r.g / 3)::text,
       r.ts, 640, 480,
       CASE WHEN r.score >= 0.85 THEN 0 WHEN r.score >= 0.5 THEN 1 ELSE 2 END,
       CASE WHEN r.g % :reviewed = 0 THEN 'reviewed' ELSE 'unreviewed' END,
       CASE WHEN r.g % :reviewed = 0 THEN :verdict_ids + r.g / :reviewed END,
       CASE WHEN r.g % :vectors = 0 THEN
            '\\x01'::bytea || decode(repeat(md5(r.g::text) || md5((r.g + 1)::text), 128), 'hex')
            || h.hist END
FROM (SELECT g, timestamptz '2026-06-01 00:00:00+00' + g * interval '1.5 seconds' AS ts,
             power(random(), 4) AS score
      FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint) - 1) AS g) AS r
LEFT JOIN bench_hist h ON h.k = r.g % :histograms
RETURNING id, verdict_id, created_at)
INSERT INTO verdicts (id, item_id, verdict, inspector, note, created_at)
SELECT m.verdict_id, m.id,
       CASE WHEN m.verdict_id % 20 < 8 THEN 'counterfeit' WHEN m.verdict_id % 20 < 19
            THEN 'genuine' ELSE 'unsure' END,
       'bench', '', m.created_at + interval '1 hour'
FROM made m WHERE m.verdict_id IS NOT NULL
"""


def histograms(engine: Engine, hists: list[bytes]) -> None:
    """The colour histograms (float16 bytes) the rows' fingerprints take, in a side table."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_hist (k int PRIMARY KEY, hist bytea)"))
        conn.execute(text("DELETE FROM bench_hist"))
        conn.execute(
            text("INSERT INTO bench_hist VALUES (:k, :hist)"),
            [{"k": k, "hist": h} for k, h in enumerate(hists)],
        )


def fill(engine: Engine, lo: int, hi: int, chunk: int = 1_000_000, log: Any = print) -> float:
    """Rows lo..hi-1 (and their verdicts); returns the seconds it took."""
    started = time.perf_counter()
    for a in range(lo, hi, chunk):
        b = min(hi, a + chunk)
        t0 = time.perf_counter()
        params = {"lo": a, "hi": b, "reviewed": REVIEWED_EVERY, "vectors": VECTORS_EVERY}
        params["verdict_ids"] = VERDICT_IDS
        with engine.begin() as conn:
            conn.execute(text(_INSERT), {**params, "histograms": HISTOGRAMS})
        log(f"  rows {a:,}..{b - 1:,}: {time.perf_counter() - t0:.1f} s")
    return time.perf_counter() - started


def analyze(engine: Engine) -> float:
    """VACUUM ANALYZE (statistics and the visibility map, as autovacuum would keep them)."""
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE items"))
        conn.execute(text("VACUUM ANALYZE verdicts"))
    return time.perf_counter() - started
