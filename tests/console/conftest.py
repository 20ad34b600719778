"""Browser fixtures: a real `counterscan serve` process and Debian's chromium driven by Playwright.

The server is the real command on a free loopback port, with the exported test model (the
`onnx_model_path` fixture of tests/conftest.py) and its own SQLite file, so the tests see what
an inspector sees. Chromium is /usr/bin/chromium (installed by `make test` as root), or the
binary COUNTERSCAN_TEST_CHROMIUM names; Playwright never downloads a browser. Without it the
browser tests are skipped and say why (a failure with that reason under `.ci/run`'s strict mode).

Screenshots go to tmp_path, or to $COUNTERSCAN_CONSOLE_SHOTS when that is set (to look at them).
"""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.helpers.live_server import LiveServer, ServerSpec

CHROMIUM = Path(os.environ.get("COUNTERSCAN_TEST_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSPECTOR_KEY = "console-inspector-key-0123"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
START_TIMEOUT_S = 90.0


class ConsoleServer:
    """A real `counterscan serve` (tests/helpers/live_server.py) on its own SQLite file, with
    what the console tests ask of it: score a photo as a crawler would, read the database."""

    def __init__(
        self,
        root: Path,
        model: Path,
        api_keys: str = "",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.db_path = root / "counterscan.db"
        self.evidence_public_key: Path | None = None
        spec = ServerSpec(
            model=model,
            db=f"sqlite:///{self.db_path}",
            data_dir=root / "store",
            log_path=root / "server.log",
            api_keys=api_keys,
            env={"COUNTERSCAN_DECODE_THREADS": "1", **(extra_env or {})},
            log_level="warning",
        )
        self.live = LiveServer(spec).start(timeout=START_TIMEOUT_S)
        self.url = self.live.url

    def client(self, key: str | None = None) -> httpx.Client:
        return self.live.client(key, timeout=30.0)

    def score(self, data: bytes, key: str | None = None, **fields: str) -> dict[str, Any]:
        """Score one photo through the API (how a crawler fills the queue)."""
        with self.client(key) as client:
            res = client.post("/v1/score", files={"image": ("photo.jpg", data)}, data=fields)
        res.raise_for_status()
        return res.json()

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the server's SQLite file directly: what the page recorded is really stored."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as conn:
            return conn.execute(query, params).fetchall()

    def stop(self) -> None:
        self.live.stop()


# The console server's model: the shared test model (trained or exported) with a contract of
# known version and thresholds, so the pages' words can be checked exactly.
CONSOLE_MODEL_VERSION = "console-model-1"
CONSOLE_THRESHOLDS = {"high": 0.6, "low": 0.3}
# What `counterscan train` writes into the contract (training/finalize.py), so the model page
# is tested on the shape a real model carries.
TRAINED_METRICS = {
    "val": {"n": 90, "roc_auc": 0.962, "average_precision": 0.948, "accuracy": 0.911,
            "ece": 0.031, "recall_at_precision_0.9": 0.87, "ece_before_scaling": 0.082},
    "test": {"n": 90, "roc_auc": 0.951, "average_precision": 0.933, "accuracy": 0.9,
             "ece": 0.04, "recall_at_precision_0.9": 0.82, "ece_before_scaling": 0.09},
}  # fmt: skip
TRAINED_EXTRA = {
    "stage": "final",
    "counts": {
        "train": {"genuine": 210, "counterfeit": 210, "total": 420},
        "val": {"genuine": 45, "counterfeit": 45, "total": 90},
        "test": {"genuine": 45, "counterfeit": 45, "total": 90},
    },
    "train": {"epochs_run": 9, "best_epoch": 6, "stopped_early": True, "train_seconds": 412.5,
              "device": "cpu", "config": {"image_size": 64, "epochs": 15, "batch_size": 32,
                                          "lr": 0.001, "pretrained": True}},
}  # fmt: skip


def _with_training_record(model: Path, out: Path) -> Path:
    """A copy of the test model whose contract carries metrics and a training summary."""
    from dataclasses import replace

    import onnx

    from counterscan.contract import ModelContract, Thresholds

    proto = onnx.load(str(model))
    meta = {p.key: p.value for p in proto.metadata_props}
    contract = ModelContract.from_metadata(meta)
    rich = replace(
        contract,
        model_version=CONSOLE_MODEL_VERSION,
        thresholds=Thresholds(**CONSOLE_THRESHOLDS),
        metrics=TRAINED_METRICS,
        extra=TRAINED_EXTRA,
    )
    del proto.metadata_props[:]
    for key, value in sorted({**meta, **rich.to_metadata()}.items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    path = out / "model-trained.onnx"
    onnx.save(proto, str(path))
    return path


@pytest.fixture(scope="session")
def console_server(
    onnx_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """The service with no keys (loopback only, every request allowed), serving the test
    model with a training record in its contract."""
    root = tmp_path_factory.mktemp("console-open")
    model = _with_training_record(onnx_model_path, root)
    from counterscan.serve.cases.evidence import keygen

    key, _ = keygen(root / "office")  # evidence packages are signed (the case page)
    server = ConsoleServer(root / "server", model, extra_env={"COUNTERSCAN_EVIDENCE_KEY": str(key)})
    server.evidence_public_key = root / "office.pub"
    yield server
    server.stop()


@pytest.fixture(scope="module")
def own_server(
    onnx_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """A server with no keys and an empty database for one test module: pages whose numbers
    (trend counts, seller ranks, open alerts) must equal what that module put in."""
    server = ConsoleServer(tmp_path_factory.mktemp("console-own"), onnx_model_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def keyed_server(
    onnx_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """The service with one inspector key: the page must ask for it."""
    keys = f"{INSPECTOR_KEY}:inspector:ana"
    server = ConsoleServer(tmp_path_factory.mktemp("console-keyed"), onnx_model_path, keys)
    yield server
    server.stop()


# Module scope, not session: Playwright's sync API runs an asyncio loop in this thread while it
# is open, and later tests that call asyncio.run() (the batcher's) must not find one running.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make test` as root or `apt-get install chromium`")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """open_page(url, viewport=DESKTOP, locale="vi-VN") -> a Playwright page on a fresh profile.

    Fails the test on any uncaught script error or console error, so a broken page never
    passes because the element we looked for happened to be there."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_(url: str, viewport: dict[str, int] = DESKTOP, locale: str = "vi-VN") -> Any:
        phone = viewport["width"] < 600  # a phone: touch screen, mobile layout rules
        context = browser.new_context(
            viewport=viewport,
            locale=locale,
            timezone_id="Asia/Ho_Chi_Minh",
            is_mobile=phone,
            has_touch=phone,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda msg: (
                errors.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error" and "status of 4" not in msg.text
                else None
            ),
        )
        page.goto(url)
        page.wait_for_selector("main h1")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, "\n".join(errors)


@pytest.fixture
def shot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """shot(page, "queue-desktop-vi") saves a full-page PNG and returns its path."""
    folder = Path(os.environ.get("COUNTERSCAN_CONSOLE_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the sticky bar would show mid-page otherwise
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def product_photo(seed: int, size: tuple[int, int] = (480, 360)) -> bytes:
    """A photo-like JPEG: a coloured background with a 'product' and a 'logo', unique per seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    coarse = rng.integers(60, 230, (3, 4, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    colour = tuple(int(c) for c in rng.integers(0, 255, 3))
    box = (w // 4, h // 5, 3 * w // 4, 4 * h // 5)
    draw.rounded_rectangle(box, radius=24, fill=colour, outline=(20, 20, 20), width=4)
    draw.ellipse((w // 2 - 30, h // 2 - 30, w // 2 + 30, h // 2 + 30), fill=(245, 245, 245))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=88)
    return buf.getvalue()


@pytest.fixture
def photo_bytes() -> Callable[..., bytes]:
    """photo_bytes(seed, size=(480, 360)) -> JPEG bytes (tests cannot import this file)."""
    return product_photo


@pytest.fixture
def photo_files(tmp_path: Path) -> Callable[..., list[Path]]:
    """photo_files(n, first_seed) -> JPEG files on disk, for the page's file picker."""

    def make(n: int, first_seed: int = 0) -> list[Path]:
        paths = []
        for seed in range(first_seed, first_seed + n):
            path = tmp_path / f"photo-{seed}.jpg"
            path.write_bytes(product_photo(seed))
            paths.append(path)
        return paths

    return make
