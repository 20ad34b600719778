"""Storage fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL needs COUNTERSCAN_TEST_PG_URL (CI's .ci/run starts a server and sets it; locally:
`export COUNTERSCAN_TEST_PG_URL=$(.ci/postgres.sh)`); without it those cases are skipped.
Each PostgreSQL case gets a schema of its own (dropped afterwards), so runs never see each
other's rows, even when they share one database.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import create_engine
from sqlalchemy.schema import CreateSchema, DropSchema

from counterscan.hashing import phash, phash_hex, sha256_bytes
from counterscan.serve.storage import ItemRecord, Store
from counterscan.serve.storage.db import normalise_url

PG_ENV = "COUNTERSCAN_TEST_PG_URL"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL nobody else uses: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'counterscan.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set (run `export {PG_ENV}=$(.ci/postgres.sh)`)")
    schema = f"test_{secrets.token_hex(6)}"
    admin = create_engine(normalise_url(base))
    try:
        with admin.begin() as conn:
            conn.execute(CreateSchema(schema))
        url = normalise_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(DropSchema(schema, cascade=True, if_exists=True))
        admin.dispose()


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
    rng = np.random.default_rng(seed)
    w, h = size
    coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((w, h), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


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
