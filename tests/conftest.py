"""Shared fixtures: a real exported ONNX model, service apps and clients, test images.

`onnx_model_path` is built through the project's own code, never a hand-made graph: a tiny model
trained by `counterscan.training` (one short epoch on drawn photos); if training fails, every test
that needs the model fails with that error (never a silent untrained stand-in). Only
COUNTERSCAN_TEST_MODEL=export asks for the ImageNet-initialised network exported by
`counterscan.model.export.export_onnx` instead. Image size 64 keeps it fast. Tests read the model's version, thresholds
and sizes from `model_contract`, never assume them.

Tests cannot import this file (pytest runs with --import-mode=importlib), so helpers are
fixtures: `make_image(fmt, size, seed)` returns encoded bytes.

Strict mode (COUNTERSCAN_TEST_STRICT=1, set by `.ci/run`): a skipped test is a failure that
gives the skip's reason (no chromium, no PostgreSQL, no tmpfs, a missing module...), so a CI run
cannot pass because whole groups quietly did not run. A developer's plain `make test` still
skips and `-ra` says why. Expected failures (xfail) are not affected.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.photos import blobs, encode, labelled_photo

STRICT_ENV = "COUNTERSCAN_TEST_STRICT"
TEST_IMAGE_SIZE = 64
TEST_MODEL_VERSION = "test-model-1"
TEST_THRESHOLDS = {"high": 0.6, "low": 0.3}
# Keys for auth tests (16+ characters, as the settings require).
TEST_KEYS = {
    "crawler": "crawler-key-0123456789",
    "inspector": "inspector-key-0123456789",
    "admin": "admin-key-0123456789abc",
}


# ---------------------------------------------------------------------------- strict mode


def strict_mode() -> bool:
    """True under `.ci/run` (COUNTERSCAN_TEST_STRICT=1): skips become failures."""
    return os.environ.get(STRICT_ENV, "").strip() == "1"


def _skip_reason(report: pytest.BaseReport) -> str:
    """The words of a skip report: its longrepr is (file, 1-based line, "Skipped: reason")."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        file, line, message = longrepr
        return f"{message.removeprefix('Skipped: ')} ({file}:{line})"
    return str(longrepr)


def _fail_skip(report: pytest.BaseReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI ({STRICT_ENV}=1): {_skip_reason(report)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under strict mode a skipped test (skip(), skipif, importorskip) fails with the reason."""
    outcome = yield
    if strict_mode():
        _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """The same for a whole module skipped while it is collected (a module-level
    importorskip): under strict mode it is a collection error with the reason."""
    outcome = yield
    if strict_mode():
        _fail_skip(outcome.get_result())


def pytest_report_header(config: pytest.Config) -> str:
    if strict_mode():
        return f"{STRICT_ENV}=1: a skipped test fails, with its reason"
    return f"skips allowed ({STRICT_ENV} unset); `.ci/run` makes every skip a failure"


def _export_pretrained(out: Path) -> Path:
    """The ImageNet-initialised network with an untrained head, exported with a contract."""
    import torch

    from counterscan.contract import ModelContract, Thresholds
    from counterscan.model.config import ModelConfig
    from counterscan.model.export import export_onnx
    from counterscan.model.pretrained import build_model

    torch.manual_seed(0)
    config = ModelConfig(image_size=TEST_IMAGE_SIZE)
    model = build_model(config, pretrained=True).eval()
    contract = ModelContract(
        model_version=TEST_MODEL_VERSION,
        input_size=TEST_IMAGE_SIZE,
        thresholds=Thresholds(**TEST_THRESHOLDS),
        created_at="2025-01-01T00:00:00Z",
    )
    path = out / "model.onnx"
    export_onnx(model, config, contract, path, temperature=1.0, threads=1)
    return path


def _tiny_dataset(root: Path, per_class: int = 12) -> Path:
    """genuine/ and counterfeit/ folders, no manifest: the trainer splits by itself."""
    for label in ("genuine", "counterfeit"):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            photo = labelled_photo(
                label == "counterfeit", seed=i + (1000 if label == "counterfeit" else 0)
            )
            photo.save(root / label / f"{i:03d}.jpg", quality=92)
    return root


def _train_tiny(out: Path) -> Path:
    """A model trained for one short epoch on a tiny drawn set. Any error, an ImportError too,
    fails the tests that need it: serving an untrained model instead would hide it."""
    from counterscan.training.config import TrainConfig
    from counterscan.training.trainer import train

    config = TrainConfig(
        image_size=TEST_IMAGE_SIZE,
        epochs=1,
        batch_size=8,
        eval_batch_size=16,
        warmup_epochs=0.5,
        threads=2,
    )
    train(_tiny_dataset(out / "data"), out / "run", config, progress=False)
    return out / "run" / "model.onnx"


@pytest.fixture(scope="session")
def onnx_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real model file at image size 64, trained by the training package
    (COUNTERSCAN_TEST_MODEL=export asks for the untrained export instead, on purpose only)."""
    out = tmp_path_factory.mktemp("model")
    if os.environ.get("COUNTERSCAN_TEST_MODEL") == "export":
        return _export_pretrained(out)
    return _train_tiny(out)


@pytest.fixture(scope="session")
def model_contract(onnx_model_path: Path) -> Any:
    """The ModelContract stored in `onnx_model_path` (version, thresholds, sizes)."""
    import onnx

    from counterscan.contract import ModelContract

    proto = onnx.load(str(onnx_model_path), load_external_data=False)
    return ModelContract.from_metadata({p.key: p.value for p in proto.metadata_props})


@pytest.fixture(scope="session")
def model_variant(
    onnx_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Path]:
    """model_variant("v2") -> a copy of the exported model whose contract says model_version v2
    (same network; only the metadata differs). Used to see reloads take effect."""
    import onnx

    from counterscan.contract import ModelContract

    def make(version: str) -> Path:
        proto = onnx.load(str(onnx_model_path))
        meta = {p.key: p.value for p in proto.metadata_props}
        contract = ModelContract.from_metadata(meta)
        new = {**meta, **_replace_version(contract, version).to_metadata()}
        del proto.metadata_props[:]
        for key, value in sorted(new.items()):
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        path = tmp_path_factory.mktemp("variant") / f"model-{version}.onnx"
        onnx.save(proto, str(path))
        return path

    return make


def _replace_version(contract: Any, version: str) -> Any:
    from dataclasses import replace

    return replace(contract, model_version=version)


# ---------------------------------------------------------------------------- images


def encode_image(
    fmt: str = "JPEG",
    size: tuple[int, int] = (96, 64),
    seed: int = 0,
    mode: str = "RGB",
    **save: Any,
) -> bytes:
    """Photo-like (smooth colour blobs) image bytes, different per seed."""
    img = blobs(size, seed)
    return encode(img if mode == "RGB" else img.convert(mode), fmt, **save)


@pytest.fixture
def make_image() -> Callable[..., bytes]:
    """make_image(fmt="JPEG", size=(w, h), seed=0, mode="RGB", **save_options) -> bytes."""
    return encode_image


# ---------------------------------------------------------------------------- the service


@pytest.fixture
def serve_settings(onnx_model_path: Path, tmp_path: Path) -> Callable[..., Any]:
    """serve_settings(**overrides) -> Settings for a test app (own SQLite file, own data dir,
    one ORT thread: the CI machine has two cores)."""
    from counterscan.serve.settings import Settings

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "model": onnx_model_path,
            "data_dir": tmp_path / "store",
            "db": f"sqlite:///{tmp_path / 'counterscan.db'}",
            "intra_op_threads": 1,
            "decode_threads": 2,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def make_client(serve_settings: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """make_client(**setting_overrides) -> a started TestClient (lifespan run, model warm)."""
    from fastapi.testclient import TestClient

    from counterscan.serve.app import create_app

    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(serve_settings(**overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def app_client(make_client: Callable[..., Any]) -> Any:
    """A TestClient on the service with default settings and no API keys."""
    return make_client()


@pytest.fixture
def api_keys_setting() -> str:
    """COUNTERSCAN_API_KEYS value with one key per role (names: crawler-bot, ana, root)."""
    names = {"crawler": "crawler-bot", "inspector": "ana", "admin": "root"}
    return ",".join(f"{key}:{role}:{names[role]}" for role, key in TEST_KEYS.items())


@pytest.fixture
def test_keys() -> dict[str, str]:
    return dict(TEST_KEYS)
