"""What every benchmark script shares: machine facts, latency statistics, tables, result files,
photo-like test images and the model under test.

The scripts are plain programs (`.venv/bin/python bench/bench_model.py`), not part of the
installed package; they import this file as a sibling module.
"""

from __future__ import annotations

import io
import json
import os
import platform
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

RESULTS_DIR = Path(__file__).resolve().parent / "results"

# FMA pipes per core: AMD Zen 4/5 and Intel server cores since Skylake-SP have two. /proc/cpuinfo
# does not say, so this is an assumption, stated next to every theoretical peak we print.
FMA_UNITS_PER_CORE = 2


# ---------------------------------------------------------------- the machine


def cores() -> int:
    """Cores this process may run on (what the service's defaults use too)."""
    return len(os.sched_getaffinity(0))


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages: other work on the same cores skews every figure."""
    return [round(v, 2) for v in os.getloadavg()]


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # pragma: no cover - not Linux
        return info
    for line in text.splitlines():
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    return info


def theoretical_peak(n_cores: int | None = None) -> dict[str, Any]:
    """fp32 peak of the cores from the CPU flags and clock: lanes per vector x 2 (an FMA is a
    multiply and an add) x FMA pipes x GHz x cores. int8 (VNNI: 4 multiply-adds per 32-bit lane)
    is 4x that."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    per_fma = 2 if "fma" in flags or "avx512f" in flags else 1
    ghz = float(info.get("cpu MHz", "0") or 0) / 1000.0
    n = n_cores or cores()
    fp32 = lanes * per_fma * FMA_UNITS_PER_CORE * ghz * n
    vnni = "avx512_vnni" in flags or "avx_vnni" in flags
    return {
        "cpu": info.get("model name", platform.processor()),
        "ghz": round(ghz, 3),
        "cores": n,
        "vector": "avx512" if lanes == 16 else "avx2" if lanes == 8 else "sse",
        "vnni": vnni,
        "fp32_gflops": round(fp32, 1),
        "int8_gops": round(4 * fp32, 1) if vnni else None,
        "formula": f"{lanes} fp32 lanes x {per_fma} (FMA) x {FMA_UNITS_PER_CORE} FMA pipes "
        f"(assumed) x {ghz:.2f} GHz x {n} cores",
    }


def versions(*names: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine(*packages: str) -> dict[str, Any]:
    return {
        "cores": cores(),
        "load_average_start": load_average(),
        "peak": theoretical_peak(),
        "versions": versions("numpy", "pillow", *packages),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


# ---------------------------------------------------------------- statistics


def latency_stats(ms: Sequence[float]) -> dict[str, float]:
    """Latency summary in milliseconds. With few samples p99 is close to the maximum."""
    if not ms:
        return {"n": 0}
    a = np.asarray(ms, dtype=np.float64)
    return {
        "n": len(a),
        "mean_ms": round(float(a.mean()), 2),
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p95_ms": round(float(np.percentile(a, 95)), 2),
        "p99_ms": round(float(np.percentile(a, 99)), 2),
        "max_ms": round(float(a.max()), 2),
    }


def ratio(value: float, target: float) -> float:
    return round(value / target, 2) if target else float("nan")


# ---------------------------------------------------------------- output


def print_table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """A plain text table on stdout; missing cells print as '-'."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [
        max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)
    ]
    print(f"\n{title}")
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def write_result(name: str, data: dict[str, Any], path: Path | None = None) -> Path:
    """bench/results/<name>.json unless `path` is given."""
    path = path or RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")
    return path


# ---------------------------------------------------------------- test images


def phone_jpeg(width: int, height: int, seed: int, quality: int = 92) -> bytes:
    """A photo-like JPEG: smooth colour regions, edges and sensor noise, so it compresses like a
    photo (a 12 MP one is 3-6 MB) and decodes at a photo's speed; flat or pure-noise images
    would not."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC))
    noise = rng.normal(0, 6, (height, width, 3)).astype(np.float32)
    img = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def unique_jpeg(data: bytes, tag: str) -> bytes:
    """The same JPEG with a comment segment holding `tag`: other bytes (so the service's cache
    of already-scored photos never answers), same pixels and decoding cost."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    payload = f"bench {tag}".encode()
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


# ---------------------------------------------------------------- the model under test


@dataclass
class ModelUnderTest:
    model: Any  # counterscan.model.network.CounterfeitNet, eval mode
    config: Any  # ModelConfig
    contract: Any  # ModelContract
    source: str  # where the weights came from


def model_under_test(checkpoint: Path | None, *, tiny: bool = False) -> ModelUnderTest:
    """The trained checkpoint when given; else the ImageNet-initialised network at 224 px (same
    architecture and FLOPs, untrained head); `tiny`: random weights at 64 px (smoke runs)."""
    from counterscan.contract import ModelContract
    from counterscan.model.config import ModelConfig
    from counterscan.model.export import contract_from_checkpoint
    from counterscan.model.pretrained import build_model

    if checkpoint is not None:
        from counterscan.model.checkpoint import load_checkpoint

        ckpt = load_checkpoint(checkpoint)
        contract = contract_from_checkpoint(checkpoint, ckpt.config, ckpt.meta)
        return ModelUnderTest(ckpt.model, ckpt.config, contract, f"checkpoint {checkpoint}")
    size = 64 if tiny else 224
    config = ModelConfig(image_size=size)
    model = build_model(config, pretrained=not tiny).eval()
    source = "random weights, 64 px (smoke run)" if tiny else "ImageNet-initialised, untrained head"
    return ModelUnderTest(model, config, ModelContract(f"bench-{size}", size), source)


def export_fp32(mut: ModelUnderTest, out: Path, threads: int) -> Path:
    """The model under test as a checked ONNX file (the service's artifact)."""
    from counterscan.model.export import export_onnx

    export_onnx(
        mut.model,
        mut.config,
        mut.contract,
        out,
        temperature=mut.contract.temperature,
        threads=threads,
    )
    return out
