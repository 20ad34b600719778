"""Generate half a year of an office's work through the store: scored items, verdicts, cases.

    python scripts/generate_half_year.py --db sqlite:///var/half.db --data-dir var/half-store

Shaped after a real office's half-year report (33 inspections, 32 violations, about 400
million VND of fines, about 750 million VND of goods): by default 420 items from four sources
scored over 2026-01-01 .. 2026-07-01, about 60% reviewed, 35 cases of which 33 are closed in the
period (32 with a violation, 1 without) and 2 still open. Everything is written through Store
and the case register with the times it would have had (`at=`), so `counterscan report --from
2026-01-01 --to 2026-07-01` reads it back like a real half year. Seeded: the same arguments
make the same database.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from counterscan.hashing import phash, phash_hex, sha256_bytes
from counterscan.serve.storage import Store
from counterscan.serve.storage.schema import VIOLATION_KINDS

SOURCES = ("shopee", "lazada", "tiki", "facebook")
INSPECTORS = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu")
KIND_WEIGHTS = (0.55, 0.2, 0.15, 0.07, 0.03)  # counterfeit goods most often
START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 181  # 2026-01-01 .. 2026-07-01


def photo(rng: np.random.Generator) -> bytes:
    coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((96, 96), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def amounts(rnd: random.Random, n: int, total: int, step: int = 500_000) -> list[int]:
    """n amounts in multiples of `step` that add up to about `total`."""
    weights = [rnd.uniform(0.3, 2.0) for _ in range(n)]
    scale = total / sum(weights)
    return [max(step, round(w * scale / step) * step) for w in weights]


def generate(
    store: Store,
    *,
    seed: int = 0,
    items: int = 420,
    closed_violations: int = 32,
    closed_clean: int = 1,
    still_open: int = 2,
    fines: int = 400_000_000,
    goods: int = 750_000_000,
    start: datetime = START,
    days: int = DAYS,
) -> dict[str, int]:
    rng, rnd = np.random.default_rng(seed), random.Random(seed)
    end = start + timedelta(days=days)
    made = []
    for n in range(items):
        data = photo(rng)
        at = start + timedelta(seconds=rnd.uniform(0, days * 86400 * 0.9))
        score = float(rng.beta(2, 5))
        priority = "high" if score >= 0.5 else "medium" if score >= 0.25 else "low"
        made.append(
            store.save_scored(
                image_bytes=data,
                sha256=sha256_bytes(data),
                phash=phash_hex(phash(Image.open(io.BytesIO(data)))),
                score=score,
                priority=priority,
                model_version="half-year-model",
                listing_id=f"L{n // 2:05d}",  # two photos per listing
                source=SOURCES[n % len(SOURCES)],
                url=f"https://{SOURCES[n % len(SOURCES)]}.example/item/{n // 2}",
                width=96,
                height=96,
                created_at=at,
            )
        )
    reviewed = 0
    for item in made:
        if rnd.random() < 0.6:
            at = min(item.created_at + timedelta(hours=rnd.uniform(1, 72)), end - timedelta(1))
            verdict = "counterfeit" if item.score >= 0.35 else rnd.choice(("genuine", "unsure"))
            store.add_verdict(item.id, verdict, rnd.choice(INSPECTORS), "", at=at)
            reviewed += 1
    n_cases = closed_violations + closed_clean + still_open
    fine_list = amounts(rnd, closed_violations, fines)
    goods_list = amounts(rnd, closed_violations, goods)
    pool = sorted(made, key=lambda i: i.created_at)
    for n in range(n_cases):
        first = pool[rnd.randrange(len(pool) * 2 // 3)]  # room left to close in the period
        members = [first, *rnd.sample(pool, rnd.randint(0, 2))]
        opened = first.created_at + timedelta(hours=rnd.uniform(2, 48))
        members = [m for m in dict.fromkeys(members) if m.created_at <= opened]
        who = INSPECTORS[n % len(INSPECTORS)]
        case = store.cases.create(
            f"Kiểm tra người bán {first.listing_id} ({first.source})",
            [m.id for m in members],
            actor=who,
            inspector=who,
            at=opened,
        )
        inspecting = opened + timedelta(days=rnd.uniform(1, 5))
        store.cases.set_status(case.id, "inspecting", actor=who, at=inspecting)
        if n >= closed_violations + closed_clean:
            continue  # still being inspected
        decided = inspecting + timedelta(days=rnd.uniform(1, 10))
        closed = min(decided + timedelta(days=rnd.uniform(0.5, 5)), end - timedelta(hours=1))
        decided = min(decided, closed)
        if n < closed_violations:
            store.cases.set_status(case.id, "violation", actor=who, at=decided)
            kind = rnd.choices(VIOLATION_KINDS, KIND_WEIGHTS)[0]
            store.cases.close(
                case.id,
                actor=who,
                violation_kind=kind,
                fine_vnd=fine_list[n],
                goods_value_vnd=goods_list[n],
                quantity_seized=rnd.randint(5, 400),
                at=closed,
            )
        else:
            store.cases.set_status(case.id, "no_violation", actor=who, at=decided)
            store.cases.close(case.id, actor=who, at=closed)
    return {"items": items, "reviewed": reviewed, "cases": n_cases}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True, metavar="URL")
    p.add_argument("--data-dir", type=Path, required=True, metavar="DIR")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--items", type=int, default=420)
    args = p.parse_args(argv)
    with Store(args.db, args.data_dir) as store:
        if store.cases.list(limit=1)[1] or store.queue(status="all", limit=1)[1]:
            print(f"{args.db} is not empty; generate into a new database", file=sys.stderr)
            return 2
        made = generate(store, seed=args.seed, items=args.items)
    print(json.dumps(made))
    return 0


if __name__ == "__main__":
    sys.exit(main())
