"""`counterscan data synth`: a synthetic set of listing photos of genuine and counterfeit goods.

Pipeline per item (one physical product, one manifest group):
  synth_products.genuine_design -> synth_defects.make_counterfeit (counterfeits only)
  -> synth_draw.render_label -> synth_pack.build_object
and per photo of that item: synth_photo.photograph -> synth_photo.encode_jpeg.

Determinism: every item draws from its own numpy Generator seeded by (seed, item index), every
photo from (seed, item index, shot). Nothing reads global random state or the clock, and the
JPEG encoder settings are fixed, so the same arguments give the same bytes whatever the number
of worker processes.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from counterscan.datasets.synth_backgrounds import background
from counterscan.datasets.synth_defects import DIFFICULTIES, make_counterfeit, print_variation
from counterscan.datasets.synth_draw import render_label
from counterscan.datasets.synth_pack import build_object
from counterscan.datasets.synth_photo import encode_jpeg, photograph, table_size
from counterscan.datasets.synth_products import KINDS, brands_of, genuine_design, pick
from counterscan.errors import CounterscanError
from counterscan.progress import progress_bar

MANIFEST_COLUMNS = ("path", "label", "group", "kind", "brand", "defects")
GROUP_SIZES = (2, 3, 3, 4, 4, 5)  # photos per item, drawn uniformly from this list
MAX_PHOTOS = 1_000_000
PLAN_STREAM = 0x5EED  # seeds the group plan, apart from the per-item streams


@dataclass(frozen=True)
class ItemPlan:
    index: int  # global item number: group "item-000123"
    label: str  # "genuine" | "counterfeit"
    kind: str
    photos: int

    @property
    def group(self) -> str:
        return f"item-{self.index:06d}"


def _group_sizes(total: int, rng: np.random.Generator) -> list[int]:
    """Split `total` photos into items of 2-5 photos (a lone last photo joins the item before)."""
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(min(int(pick(rng, GROUP_SIZES)), total - sum(sizes)))
    if len(sizes) > 1 and sizes[-1] == 1:
        last = sizes.pop()
        sizes[-1] += last
    return sizes


def plan_items(n: int, seed: int, counterfeit_fraction: float = 0.5) -> list[ItemPlan]:
    """Which items to make: classes interleaved, kinds round-robin within each class."""
    rng = np.random.default_rng([seed, PLAN_STREAM])
    n_fake = round(n * counterfeit_fraction)
    per_class = {
        "genuine": _group_sizes(n - n_fake, rng),
        "counterfeit": _group_sizes(n_fake, rng),
    }
    order = []  # (label, j-th item of that class), alternating while both classes have items
    for j in range(max(len(v) for v in per_class.values())):
        order += [(label, j) for label, sizes in per_class.items() if j < len(sizes)]
    return [
        ItemPlan(i, label, KINDS[j % len(KINDS)].name, per_class[label][j])
        for i, (label, j) in enumerate(order)
    ]


@dataclass(frozen=True)
class _Job:
    item: ItemPlan
    seed: int
    difficulty: str
    scale: float
    out: str


def _render_item(job: _Job) -> list[dict[str, str]]:
    """Draw one item, photograph it `photos` times, write the JPEGs. Returns its manifest rows."""
    item = job.item
    rng = np.random.default_rng([job.seed, item.index, 0])
    kind = next(k for k in KINDS if k.name == item.kind)
    brand = pick(rng, brands_of(kind.name))
    design = genuine_design(kind, brand, rng)
    if job.difficulty == "hard":
        print_variation(design, rng)
    if item.label == "counterfeit":
        make_counterfeit(design, rng, job.difficulty)
    obj = build_object(render_label(design, rng), design)
    side = table_size(job.scale)
    table = Image.fromarray(background((side, side), rng))
    rows = []
    for shot in range(item.photos):
        shot_rng = np.random.default_rng([job.seed, item.index, 1 + shot])
        data = encode_jpeg(photograph(obj, shot_rng, table, job.scale), shot_rng)
        rel = f"{item.label}/{item.group}-{shot + 1}.jpg"
        (Path(job.out) / rel).write_bytes(data)
        rows.append(
            {
                "path": rel,
                "label": item.label,
                "group": item.group,
                "kind": item.kind,
                "brand": brand.name,
                "defects": ";".join(design.defects),
            }
        )
    return rows


def _check_args(out: Path, n: int, seed: int, difficulty: str, fraction: float) -> None:
    if difficulty not in DIFFICULTIES:
        raise CounterscanError(f"unknown difficulty {difficulty!r} (use {', '.join(DIFFICULTIES)})")
    if not 2 <= n <= MAX_PHOTOS:
        raise CounterscanError(f"--n must be between 2 and {MAX_PHOTOS} photos, got {n}")
    if seed < 0:
        raise CounterscanError(f"--seed must be zero or positive, got {seed}")
    if not 0 < fraction < 1 or not 1 <= round(n * fraction) < n:
        raise CounterscanError(f"counterfeit fraction {fraction} leaves a class empty for n={n}")
    if out.exists() and not out.is_dir():
        raise CounterscanError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise CounterscanError(f"{out} is not empty; synth writes into a new or empty folder")


def _manifest_bytes(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def generate(
    out: Path,
    n: int,
    seed: int,
    difficulty: str = "medium",
    *,
    progress: bool = True,
    workers: int | None = None,
    scale: float = 1.0,
    counterfeit_fraction: float = 0.5,
) -> dict:
    """Write `n` synthetic listing photos under out/genuine, out/counterfeit and out/manifest.csv.

    `workers`: processes (default: 2, or 1 on a one-core machine); the bytes do not depend on it.
    `scale`: multiplies the photo size (1.0 = 320-400 px a side; tests use less to run fast).
    Returns a JSON-able summary.
    """
    out = Path(out)
    _check_args(out, n, seed, difficulty, counterfeit_fraction)
    if not 0.05 <= scale <= 4:
        raise CounterscanError(f"scale must be between 0.05 and 4, got {scale}")
    started = time.perf_counter()
    for label in ("genuine", "counterfeit"):
        (out / label).mkdir(parents=True, exist_ok=True)
    items = plan_items(n, seed, counterfeit_fraction)
    jobs = [_Job(item, seed, difficulty, scale, str(out)) for item in items]
    workers = workers or min(2, os.cpu_count() or 1)
    rows: list[dict[str, str]] = []
    with progress_bar(
        total=n, unit="photo", desc="synth", file=sys.stderr, disable=not progress
    ) as bar:
        if workers <= 1 or len(jobs) < 4:
            for item_rows in map(_render_item, jobs):
                rows.extend(item_rows)
                bar.update(len(item_rows))
        else:
            # `with` terminates the workers on the way out, also when a job raised.
            with multiprocessing.get_context().Pool(workers) as pool:
                for item_rows in pool.imap(_render_item, jobs, chunksize=4):
                    rows.extend(item_rows)
                    bar.update(len(item_rows))
    (out / "manifest.csv").write_bytes(_manifest_bytes(rows))
    elapsed = time.perf_counter() - started
    return {
        "out": str(out),
        "photos": len(rows),
        "seed": seed,
        "difficulty": difficulty,
        "labels": dict(Counter(r["label"] for r in rows)),
        "groups": len(items),
        "kinds": dict(Counter(r["kind"] for r in rows)),
        "defects": dict(Counter(d for r in rows for d in r["defects"].split(";") if d)),
        "elapsed_s": round(elapsed, 2),
        "photos_per_s": round(len(rows) / elapsed, 1) if elapsed > 0 else None,
    }
