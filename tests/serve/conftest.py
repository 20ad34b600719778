"""Storage fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL needs COUNTERSCAN_TEST_PG_URL (CI's .ci/run starts a server and sets it; locally:
`export COUNTERSCAN_TEST_PG_URL=$(.ci/postgres.sh)`); without it those cases are skipped.
Each PostgreSQL case gets a schema of its own (dropped afterwards), so runs never see each
other's rows, even when they share one database.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from counterscan.hashing import phash, phash_hex, sha256_bytes
from counterscan.serve.storage import ItemRecord, Store
from tests.helpers.pg_schema import fresh_schema
from tests.helpers.photos import blobs, encode


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL nobody else uses: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'counterscan.db'}"
        return
    with fresh_schema("test") as url:
        yield url


def _open_together(db_url: str, data_dir: Path, n: int) -> list[Store]:
    """n stores opened at the same moment from n threads, as `serve --workers n` does; fails
    with the first error any of them raised."""
    errors: list[BaseException] = []
    stores: list[Store] = []

    def start() -> None:
        try:
            stores.append(Store(db_url, data_dir).open())
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for store in stores:
            store.close()
        raise errors[0]
    return stores


@pytest.fixture
def open_together() -> Callable[[str, Path, int], list[Store]]:
    return _open_together


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(db_url: str, data_dir: Path) -> Iterator[Store]:
    s = Store(db_url, data_dir).open()
    yield s
    s.close()


def jpeg_bytes(seed: int, size: tuple[int, int] = (96, 64)) -> bytes:
    """A small photo-like JPEG that differs per seed (smooth blobs, not noise)."""
    return encode(blobs(size, seed), "JPEG")


@pytest.fixture
def save_item(store: Store) -> Callable[..., ItemRecord]:
    """save_item(seed, **overrides) stores a scored image with sensible defaults."""

    def save(seed: int = 0, **overrides: Any) -> ItemRecord:
        data = overrides.pop("image_bytes", None) or jpeg_bytes(seed)
        img = Image.open(io.BytesIO(data))
        fields: dict[str, Any] = {
            "image_bytes": data,
            "sha256": sha256_bytes(data),
            "phash": phash_hex(phash(img)),
            "score": 0.5,
            "priority": "medium",
            "model_version": "test-model-1",
            "listing_id": f"L{seed}",
            "source": "shop-a",
            "url": f"https://shop-a.example/listing/{seed}",
            "width": img.width,
            "height": img.height,
            "embedding": np.full(8, 0.25, dtype=np.float32),
        }
        fields.update(overrides)
        return store.save_scored(**fields)

    return save


@pytest.fixture
def make_jpeg() -> Callable[..., bytes]:
    """make_jpeg(seed, size=(w, h)) -> JPEG bytes (test files cannot import this conftest)."""
    return jpeg_bytes
