"""Service benchmark (not a test): latency and throughput of a real `counterscan serve` process.

    .venv/bin/python tests/serve/bench_serve.py [--model FILE.onnx] [--json OUT.json]

Without --model it exports the ImageNet-initialised network at 224 px (the training default)
through counterscan.model.export, so the numbers are those of the real architecture. Measures:
- single-image latency, sequential, of distinct 0.3 MP and 12 MP JPEGs (phone-like: texture and
  noise, 3-6 MB at 12 MP), end to end over HTTP: upload, decode, model, storage, answer;
- batch throughput: POST /v1/score/batch with 32 distinct 0.3 MP JPEGs;
- micro-batching: 8 concurrent clients sending single images, batching on versus off.
Every image is distinct, so no answer comes from the cache.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image


def phone_jpeg(width: int, height: int, seed: int) -> bytes:
    """A photo-like JPEG: smooth colour regions, edges, sensor noise (compresses like a photo)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC))
    noise = rng.normal(0, 6, (height, width, 3)).astype(np.float32)
    img = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def export_default_model(out: Path) -> Path:
    from counterscan.model.config import ModelConfig
    from counterscan.model.export import export_onnx
    from counterscan.model.pretrained import build_model
    from counterscan.serve.contract import ModelContract

    config = ModelConfig(image_size=224)
    model = build_model(config, pretrained=True).eval()
    path = out / "bench-224.onnx"
    export_onnx(model, config, ModelContract("bench-224", 224), path, temperature=1.0)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, model: Path, root: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSCAN_")}
        environ.update({f"COUNTERSCAN_{k.upper()}": v for k, v in env.items()})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "counterscan", "serve", "--model", str(model),
             "--db", f"sqlite:///{root / 'bench.db'}", "--data-dir", str(root / "store"),
             "--port", str(self.port), "--log-level", "warning"],
            env=environ,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not get ready")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def percentiles(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {
        "n": len(ms),
        "min_ms": round(ms[0], 1),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
        "mean_ms": round(statistics.fmean(ms), 1),
    }


def sequential_latency(url: str, images: list[bytes]) -> dict[str, float]:
    times = []
    with httpx.Client(base_url=url, timeout=60) as http:
        http.post(
            "/v1/score", files={"image": ("w.jpg", phone_jpeg(320, 240, 10**6), "image/jpeg")}
        )
        for data in images:
            start = time.perf_counter()
            r = http.post("/v1/score", files={"image": ("p.jpg", data, "image/jpeg")})
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200 and not r.json()["cached"], r.text
    return percentiles(times)


def batch_throughput(url: str, images: list[bytes], batch: int = 32) -> dict[str, float]:
    with httpx.Client(base_url=url, timeout=120) as http:
        start = time.perf_counter()
        for i in range(0, len(images), batch):
            files = [
                ("images", (f"{j}.jpg", d, "image/jpeg"))
                for j, d in enumerate(images[i : i + batch])
            ]
            r = http.post("/v1/score/batch", files=files)
            assert r.status_code == 200 and all(x["ok"] for x in r.json()["results"])
        seconds = time.perf_counter() - start
    return {"images": len(images), "batch": batch, "images_per_s": round(len(images) / seconds, 1)}


def concurrent_load(url: str, images: list[bytes], clients: int = 8) -> dict[str, float]:
    times: list[float] = []

    def one(data: bytes, http: httpx.Client) -> None:
        start = time.perf_counter()
        r = http.post("/v1/score", files={"image": ("p.jpg", data, "image/jpeg")})
        times.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200

    with httpx.Client(
        base_url=url, timeout=120, limits=httpx.Limits(max_connections=clients)
    ) as http:
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda d: one(d, http), images))
        seconds = time.perf_counter() - start
        metrics = http.get("/metrics").text
    samples = {
        line.split()[0]: float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("counterscan_inference_") and not line.startswith("#")
    }
    calls = samples.get("counterscan_inference_batch_size_count", 0.0)
    scored = samples.get("counterscan_inference_batch_size_sum", 0.0)
    model_s = samples.get("counterscan_inference_duration_seconds_sum", 0.0)
    return {
        "clients": clients,
        "images_per_s": round(len(images) / seconds, 1),
        "mean_batch": round(scored / calls, 2) if calls else 0.0,
        "model_ms_per_image": round(1000 * model_s / scored, 1) if scored else 0.0,
        **percentiles(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--n", type=int, default=12, help="12 MP images to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = args.model or export_default_model(root)
        small = [phone_jpeg(640, 480, s) for s in range(200)]
        large = [phone_jpeg(4000, 3000, 1000 + s) for s in range(args.n)]
        print(f"12 MP JPEG: {statistics.mean(len(d) for d in large) / 1e6:.1f} MB on average")
        report: dict[str, object] = {
            "cores": len(os.sched_getaffinity(0)),
            "load_average_1min": round(os.getloadavg()[0], 2),
        }

        server = Server(model, root / "on")
        try:
            report["latency_0.3MP"] = sequential_latency(server.url, small[:30])
            report["latency_12MP"] = sequential_latency(server.url, large)
            report["batch_throughput_0.3MP"] = batch_throughput(server.url, small[30:94])
            report["concurrent_batching_on"] = concurrent_load(server.url, small[94:146])
        finally:
            server.stop()
        server = Server(model, root / "off", batching="false")
        try:
            report["concurrent_batching_off"] = concurrent_load(server.url, small[146:198])
        finally:
            server.stop()
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
