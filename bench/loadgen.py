"""HTTP load generator for bench_service.py, run as its own process (so its CPU use is not the
server's): N concurrent asyncio clients post images for a fixed time and record every request.

    python bench/loadgen.py --url URL --endpoint single|batch --clients 8 --seconds 10 \
        --images DIR --out result.json

Every request sends bytes the server has not seen (a JPEG comment with a run id and a counter is
added), so no answer comes from the service's cache of already-scored photos (`cached` counts
any that did); the pixels cycle through
the JPEGs in DIR. A request started before the deadline is waited for and counted; throughput is
the images answered OK over the time until the last answer.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common


class Load:
    def __init__(self, images: list[bytes], batch: int) -> None:
        self.images = images
        self.batch = batch
        self.counter = itertools.count()
        self.run_id = secrets.token_hex(6)  # other bytes than any earlier run sent
        self.latencies_ms: list[float] = []
        self.ok_images = 0
        self.cached = 0  # answers from the service's cache: must stay 0
        self.errors: dict[str, int] = {}

    def next_files(self, n: int) -> list[tuple[str, tuple[str, bytes, str]]]:
        field = "image" if n == 0 else "images"
        out = []
        for _ in range(max(1, n)):
            i = next(self.counter)
            data = common.unique_jpeg(self.images[i % len(self.images)], f"{self.run_id}-{i}")
            out.append((field, (f"{i}.jpg", data, "image/jpeg")))
        return out

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def client(http: httpx.AsyncClient, load: Load, endpoint: str, deadline: float) -> None:
    path = "/v1/score" if endpoint == "single" else "/v1/score/batch"
    while time.perf_counter() < deadline:
        files = load.next_files(0 if endpoint == "single" else load.batch)
        start = time.perf_counter()
        try:
            r = await http.post(path, files=files)
        except httpx.HTTPError as e:
            load.error(type(e).__name__)
            continue
        load.latencies_ms.append(1000 * (time.perf_counter() - start))
        if r.status_code != 200:
            load.error(f"http {r.status_code}")
            continue
        if endpoint == "single":
            load.ok_images += 1
            load.cached += bool(r.json()["cached"])
        else:
            results = r.json()["results"]
            good = sum(1 for x in results if x["ok"])
            load.ok_images += good
            load.cached += sum(1 for x in results if x["ok"] and x["cached"])
            for _ in range(len(results) - good):
                load.error("item not ok")


async def run(url: str, endpoint: str, clients: int, seconds: float, load: Load) -> float:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as http:
        start = time.perf_counter()
        await asyncio.gather(
            *(client(http, load, endpoint, start + seconds) for _ in range(clients))
        )
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--endpoint", choices=("single", "batch"), required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=32, help="images per batch request")
    parser.add_argument("--images", type=Path, required=True, help="folder of .jpg files")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    images = [p.read_bytes() for p in sorted(args.images.glob("*.jpg"))]
    load = Load(images, args.batch)
    cpu0 = time.process_time()
    elapsed = asyncio.run(run(args.url, args.endpoint, args.clients, args.seconds, load))
    result: dict[str, Any] = {
        "seconds": round(elapsed, 3),
        "requests": len(load.latencies_ms),
        "images_ok": load.ok_images,
        "images_per_s": round(load.ok_images / elapsed, 2),
        "cached": load.cached,
        "errors": load.errors,
        "latency": common.latency_stats(load.latencies_ms),
        "loadgen_cpu_s": round(time.process_time() - cpu0, 2),
    }
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
