"""Similar cases: query time of the embedding index (exact numpy vs faiss IVF) and of a whole
match (colour filter, alignment, embedding) against 10k and 100k references.

    .venv/bin/python bench/bench_similar.py [--sizes 10000 100000] [--json out.json]

References are random unit vectors of the model's embedding size (1280) and random
fingerprints: the timing does not depend on what the photos show. Queries are stored vectors
plus noise (cosine ~0.93 to their original, i.e. above the "similar" threshold), so `top1` is
the fraction of queries whose original the index returns first. One BLAS thread, as the service.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from counterscan.serve.similar.fingerprint import Fingerprint
from counterscan.serve.similar.index import VectorIndex
from counterscan.serve.similar.matching import match_photo
from counterscan.serve.similar.references import Photo, ReferenceSet
from counterscan.serve.similar.service import limit_blas_threads

DIM = 1280


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def timed(fn, reps: int) -> tuple[float, float]:
    times = []
    for i in range(reps):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3), float(np.quantile(times, 0.95) * 1e3)


def bench_index(n: int, reps: int, rng: np.random.Generator) -> dict:
    vectors = unit(rng.standard_normal((n, DIM), dtype=np.float32))
    picks = rng.choice(n, reps)
    queries = unit(vectors[picks] + 0.012 * rng.standard_normal((reps, DIM), dtype=np.float32))
    out = {"references": n}
    for name, ann_from in (("exact", 1 << 62), ("ivf", 1)):
        index = VectorIndex(DIM, ann_from=max(ann_from, n))
        start = time.perf_counter()
        for i, v in enumerate(vectors):
            index.add(str(i), v)
        build = time.perf_counter() - start
        hits = [index.search(queries[i], 10)[0][0] == str(picks[i]) for i in range(reps)]
        median, p95 = timed(lambda i, index=index: index.search(queries[i], 10), reps)
        out[name] = {
            "query_ms_median": round(median, 2),
            "query_ms_p95": round(p95, 2),
            "build_s": round(build, 1),
            "top1": float(np.mean(hits)),
            "approximate": index.approximate,
        }
        print(n, name, out[name], file=sys.stderr)
    return out


def bench_match(n: int, reps: int, rng: np.random.Generator) -> dict:
    refs = ReferenceSet("counterfeit")
    greys = rng.integers(0, 256, (n, 64, 64), dtype=np.uint8)
    hists = unit(rng.random((n, 64), dtype=np.float32) ** 4)
    vectors = unit(rng.standard_normal((n, DIM), dtype=np.float32))
    start = time.perf_counter()
    for i in range(n):
        refs.add(Photo(str(i), f"{i:064x}", Fingerprint(greys[i], hists[i]), vectors[i]))
    build = time.perf_counter() - start
    picks = rng.choice(n, reps)
    photos = [
        Photo("q", "f" * 64, Fingerprint(greys[p], hists[p]), vectors[p]) for p in picks
    ]  # copies of references: every stage runs (colour filter, alignment, embeddings)
    median, p95 = timed(lambda i: match_photo(photos[i], [refs]), reps)
    found = np.mean(
        [match_photo(photos[i], [refs])[0].item_id == str(picks[i]) for i in range(reps)]
    )
    out = {
        "query_ms_median": round(median, 2),
        "query_ms_p95": round(p95, 2),
        "build_s": round(build, 1),
        "found": float(found),
        "approximate": refs.approximate,
    }
    print(n, "match", out, file=sys.stderr)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    limit_blas_threads()
    rng = np.random.default_rng(0)
    results = []
    for n in args.sizes:
        row = bench_index(n, args.reps, rng)
        row["match"] = bench_match(n, args.reps, rng)
        results.append(row)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
