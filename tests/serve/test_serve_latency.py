"""Latency target of issue 4: a 12 MP phone JPEG is scored in under 150 ms, end to end through
the app (upload parsing, decoding, the 224 px model, storage with fsync, the answer).

Timing-sensitive: the median of 6 distinct photos must be under 150 ms; one more round of 6 is
allowed when other work on the machine spoiled the first. tests/serve/bench_serve.py measures
more (0.3 MP, batches, micro-batching under concurrent load).
"""

from __future__ import annotations

import io
import statistics
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from counterscan.serve.app import create_app
from counterscan.serve.settings import Settings


def phone_jpeg(seed: int, size: tuple[int, int] = (4000, 3000)) -> bytes:
    """Photo-like 12 MP JPEG (smooth regions plus sensor noise: about 3 MB, like a phone's)."""
    rng = np.random.default_rng(seed)
    w, h = size
    coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(coarse).resize((w, h), Image.Resampling.BICUBIC))
    noisy = np.clip(base + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noisy).save(buf, "JPEG", quality=92)
    return buf.getvalue()


@pytest.fixture(scope="module")
def full_size_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from counterscan.model.config import ModelConfig
    from counterscan.model.export import export_onnx
    from counterscan.model.pretrained import build_model
    from counterscan.serve.contract import ModelContract

    config = ModelConfig(image_size=224)
    path = tmp_path_factory.mktemp("model224") / "model.onnx"
    model = build_model(config, pretrained=True).eval()
    export_onnx(model, config, ModelContract("latency-224", 224), path, temperature=1.0)
    return path


def test_12mp_jpeg_scored_under_150ms(full_size_model: Path, tmp_path: Path) -> None:
    settings = Settings(model=full_size_model, data_dir=tmp_path / "store")
    medians = []
    with TestClient(create_app(settings)) as client:
        client.post("/v1/score", files={"image": ("w.jpg", phone_jpeg(99), "image/jpeg")})
        for round_ in range(2):
            photos = [phone_jpeg(seed) for seed in range(6 * round_, 6 * round_ + 6)]
            assert all(Image.open(io.BytesIO(p)).size == (4000, 3000) for p in photos)
            times = []
            for data in photos:
                start = time.perf_counter()
                r = client.post("/v1/score", files={"image": ("p.jpg", data, "image/jpeg")})
                times.append(time.perf_counter() - start)
                assert r.status_code == 200 and r.json()["cached"] is False
            medians.append(statistics.median(times) * 1000)
            print(f"12 MP latency, round {round_ + 1}: median {medians[-1]:.0f} ms")
            if medians[-1] < 150:
                return
    pytest.fail(f"12 MP JPEG median latency {[round(m) for m in medians]} ms, target < 150 ms")
