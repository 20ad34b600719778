"""Generated photo sets for the dataset tests (never the shared data).

`draw_scene(seed, shot=0)` draws a photo-like scene: a colour gradient, random shapes with hard
edges and a soft grain, so that every seed is a different photo and near-duplicate search has
real detail to compare. `shot=1, 2, ...` photographs the *same* scene again (a few degrees of
rotation, a shift, other sensor noise and exposure): another photo of one object, which must not
count as a copy. Tests cannot import this file (importlib mode), so helpers are fixtures.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

SCENE_SIZE = (256, 192)


def draw_scene(seed: int, shot: int = 0, size: tuple[int, int] = SCENE_SIZE) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    big = (w * 2, h * 2)  # the scene; a shot is a (rotated, shifted) view of its middle
    corners = rng.integers(0, 256, (3, 3, 3), dtype=np.uint8)
    img = Image.fromarray(corners).resize(big, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = int(rng.integers(0, big[0])), int(rng.integers(0, big[1]))
        box = (x, y, x + int(rng.integers(8, big[0] // 4)), y + int(rng.integers(8, big[1] // 4)))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = int(rng.integers(3))
        if kind == 0:
            draw.ellipse(box, fill=fill)
        elif kind == 1:
            draw.rectangle(box, fill=fill)
        else:
            draw.line(box, fill=fill, width=int(rng.integers(1, 5)))
    grain_small = rng.integers(0, 256, (big[1] // 3, big[0] // 3), dtype=np.uint8)
    grain = Image.fromarray(grain_small).resize(big, Image.Resampling.BICUBIC)
    texture = (np.asarray(grain, np.float32)[..., None] - 128.0) * 0.25  # (H, W, 1)
    img = Image.fromarray(np.clip(np.asarray(img, np.float32) + texture, 0, 255).astype(np.uint8))
    camera = np.random.default_rng(10_000 + 7 * seed + shot)
    angle, dx, dy = 0.0, 0, 0
    if shot:
        angle = float(camera.uniform(2.0, 4.0) * camera.choice([-1, 1]))
        dx, dy = (int(v) for v in camera.integers(-12, 12, 2))
    center = (big[0] / 2 + dx, big[1] / 2 + dy)
    img = img.rotate(angle, resample=Image.Resampling.BICUBIC, center=center)
    img = img.crop((w // 2 + dx, h // 2 + dy, w // 2 + dx + w, h // 2 + dy + h))
    if shot:
        exposure = camera.uniform(0.9, 1.1)
        noisy = np.asarray(img, np.float32) * exposure + camera.normal(0, 4, (h, w, 3))
        img = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    return img


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, format=fmt, quality=quality)
    else:
        img.save(buf, format=fmt)
    return buf.getvalue()


def write_dataset(
    root: Path,
    rows: list[dict[str, str]],
    files: dict[str, bytes],
    columns: list[str] | None = None,
) -> Path:
    """Write `files` (relative path -> bytes) under root and a manifest.csv with `rows`."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    with (root / "manifest.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return root


def clean_set(root: Path, groups: int = 8, shots: int = 2, split: bool = False) -> Path:
    """`groups` objects (first half genuine) photographed `shots` times each; no copies.

    With `split`, groups go round-robin to train, train, val, test (per label).
    """
    rows, files = [], {}
    for g in range(groups):
        label = "genuine" if g < groups // 2 else "counterfeit"
        for shot in range(shots):
            rel = f"{label}/item{g:02d}_{shot}.jpg"
            files[rel] = encode(draw_scene(100 + g, shot))
            row = {"path": rel, "label": label, "group": f"item{g:02d}"}
            if split:
                row["split"] = ("train", "train", "val", "test")[(g % (groups // 2)) % 4]
            rows.append(row)
    return write_dataset(root, rows, files)


@pytest.fixture
def scene() -> Callable[..., Image.Image]:
    """scene(seed, shot=0, size=(256, 192)) -> PIL image (see the module docstring)."""
    return draw_scene


@pytest.fixture
def jpeg() -> Callable[..., bytes]:
    """jpeg(img, fmt="JPEG", quality=90) -> encoded bytes."""
    return encode


@pytest.fixture
def make_dataset() -> Callable[..., Path]:
    """make_dataset(root, rows, files, columns=None) -> root with files and manifest.csv."""
    return write_dataset


@pytest.fixture
def make_clean_set() -> Callable[..., Path]:
    """make_clean_set(root, groups=8, shots=2, split=False) -> a dataset without problems."""
    return clean_set


def read_rows(root: Path) -> list[dict[str, str]]:
    with (root / "manifest.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def manifest_rows() -> Callable[[Path], list[dict[str, str]]]:
    """manifest_rows(root) -> the rows of root/manifest.csv as dicts."""
    return read_rows
