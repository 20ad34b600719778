"""Fixtures of the reliability suite: real server processes, hostile inputs, databases.

- `start_server(**spec)` starts a real `counterscan serve` process (live_server.py) with API
  keys for every role (`rel_keys`), its own SQLite file and data folder; all are stopped after
  the test. `module_server` is one such process shared by a module's tests.
- `hostile_case` parametrises a test over hostile_images.CASES; `hostile` is the whole module.
- `pg_url` is a fresh schema on the shared PostgreSQL (COUNTERSCAN_TEST_PG_URL, skipped
  without it); `throwaway_pg` is a PostgreSQL cluster of the test's own, to stop and start.

Fast parts run in `make test`; `@pytest.mark.slow` parts in `make test-slow`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import hostile_images, live_server, pg_cluster
from tests.helpers.pg_schema import fresh_schema

PG_ENV = "COUNTERSCAN_TEST_PG_URL"

# One key per role plus a second inspector (names say who gave a verdict).
KEYS = {
    "crawler": ("rel-crawler-key-0123456789", "crawler-bot"),
    "inspector": ("rel-inspector-key-0123456789", "ana"),
    "inspector2": ("rel-inspector2-key-0123456789", "ben"),
    "admin": ("rel-admin-key-0123456789abc", "root"),
}


# Hypothesis (under schemathesis) keeps caches in ./.hypothesis; tests write only to tmp.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    _hypothesis_dir = tempfile.mkdtemp(prefix="counterscan-hypothesis-")
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = _hypothesis_dir
    atexit.register(shutil.rmtree, _hypothesis_dir, ignore_errors=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hostile_case" in metafunc.fixturenames:
        cases = hostile_images.CASES
        metafunc.parametrize("hostile_case", cases, ids=[c.name for c in cases])


@pytest.fixture(scope="session")
def hostile() -> ModuleType:
    return hostile_images


@pytest.fixture(scope="session")
def rel_keys() -> dict[str, str]:
    """role (or "inspector2") -> secret."""
    return {role: secret for role, (secret, _) in KEYS.items()}


@pytest.fixture(scope="session")
def rel_key_names() -> dict[str, str]:
    return {role: name for role, (_, name) in KEYS.items()}


def keys_setting() -> str:
    role_of = {"inspector2": "inspector"}
    return ",".join(f"{s}:{role_of.get(r, r)}:{n}" for r, (s, n) in KEYS.items())


@pytest.fixture(scope="session")
def rel_keys_setting() -> str:
    """COUNTERSCAN_API_KEYS for `rel_keys`."""
    return keys_setting()


@pytest.fixture(scope="session")
def open_app(onnx_model_path: Path) -> Callable[..., Any]:
    """open_app(root, **settings): a context manager giving a TestClient on an in-process app
    with its SQLite database and data folder under `root` (for module-scoped fixtures)."""
    from fastapi.testclient import TestClient

    from counterscan.serve.app import create_app
    from counterscan.serve.settings import Settings

    @contextlib.contextmanager
    def open_(root: Path, **overrides: Any) -> Iterator[TestClient]:
        settings = Settings(
            model=onnx_model_path,
            data_dir=root / "store",
            db=f"sqlite:///{root / 'cs.db'}",
            intra_op_threads=1,
            decode_threads=2,
            **overrides,
        )
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield client

    return open_


def _server_factory(root: Path, model: Path) -> Iterator[Callable[..., Any]]:
    servers: list[Any] = []

    def start(*, start: bool = True, **spec: Any) -> Any:
        n = len(servers)
        defaults: dict[str, Any] = {
            "model": model,
            "db": f"sqlite:///{root / f'server{n}' / 'counterscan.db'}",
            "data_dir": root / f"server{n}" / "store",
            "log_path": root / f"server{n}.log",
            "api_keys": keys_setting(),
        }
        server = live_server.LiveServer(live_server.ServerSpec(**(defaults | spec)))
        servers.append(server)
        return server.start() if start else server

    yield start
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def served_model(onnx_model_path: Path, tmp_path: Path) -> Path:
    """A copy of the test model that a test may overwrite (reload tests)."""
    path = tmp_path / "served" / "model.onnx"
    path.parent.mkdir()
    shutil.copy(onnx_model_path, path)
    return path


@pytest.fixture
def start_server(served_model: Path, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """start_server(**ServerSpec fields) -> a started LiveServer (stopped after the test)."""
    yield from _server_factory(tmp_path, served_model)


@pytest.fixture(scope="module")
def module_server(onnx_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One started server (keys on, SQLite) shared by the tests of a module."""
    root = tmp_path_factory.mktemp("server")
    factory = _server_factory(root, onnx_model_path)
    start = next(factory)
    from counterscan.serve.cases.evidence import keygen

    key, _ = keygen(root / "office")  # evidence packages are signed: the route needs a key
    env = {"COUNTERSCAN_EVIDENCE_KEY": str(key)}
    yield start(log_level="debug", env=env)  # everything the server could log, for the secrets test
    next(factory, None)


# ---------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema on the shared PostgreSQL server, dropped afterwards."""
    with fresh_schema("rel") as url:
        yield url


@pytest.fixture
def throwaway_pg() -> Iterator[Any]:
    """A PostgreSQL cluster of this test's own (initdb in a temporary folder, its own port),
    so stopping it disturbs no other test. Skipped when the server binaries are absent."""
    binaries = pg_cluster.find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    cluster = pg_cluster.Cluster(binaries)
    try:
        cluster.create()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
