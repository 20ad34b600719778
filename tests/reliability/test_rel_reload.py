"""A broken model file on reload is refused with the reason, and the old model keeps serving:
truncated at several points, empty, random bytes, a mangled header, an image named .onnx, a
graph without its contract, a contract of another version or input size, weights that give NaN
(caught by the warm-up), a folder. Then the same on a real process: the served file truncated
in place (a deploy cut short) and SIGHUP, while clients keep scoring without a failure.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import numpy_helper


def _edit(model: Path, out: Path, change: Callable[[Any], None]) -> Path:
    proto = onnx.load(str(model))
    change(proto)
    onnx.save(proto, str(out))
    return out


def _drop_contract(proto: Any) -> None:
    del proto.metadata_props[:]


def _set_meta(key: str, value: str) -> Callable[[Any], None]:
    def change(proto: Any) -> None:
        for prop in proto.metadata_props:
            if prop.key == key:
                prop.value = value

    return change


def _nan_weights(proto: Any) -> None:
    for init in proto.graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT:
            array = numpy_helper.to_array(init)
            init.CopyFrom(numpy_helper.from_array(np.full_like(array, np.nan), init.name))


def broken_models(good: Path, where: Path) -> dict[str, Path]:
    """name -> a broken copy of `good`."""
    data = good.read_bytes()
    cut = {
        f"truncated_{k}": int(len(data) * f)
        for k, f in (("1pct", 0.01), ("half", 0.5), ("99pct", 0.99))
    }
    raw: dict[str, bytes] = {name: data[:n] for name, n in cut.items()}
    raw |= {
        "truncated_last_byte": data[:-1],
        "empty": b"",
        "random_bytes": np.random.default_rng(0).bytes(len(data)),
        "mangled_header": bytes(b ^ 0xFF for b in data[:64]) + data[64:],
        "jpeg_named_onnx": b"\xff\xd8\xff\xe0" + bytes(1000),
    }
    out = {name: where / f"{name}.onnx" for name in raw}
    for name, content in raw.items():
        out[name].write_bytes(content)
    out["no_contract"] = _edit(good, where / "no_contract.onnx", _drop_contract)
    out["contract_version_99"] = _edit(
        good, where / "v99.onnx", _set_meta("counterscan.contract_version", "99")
    )
    out["wrong_input_size"] = _edit(
        good, where / "size.onnx", _set_meta("counterscan.input_size", "97")
    )
    out["nan_weights"] = _edit(good, where / "nan.onnx", _nan_weights)
    out["a_folder"] = where
    return out


@pytest.fixture(scope="module")
def client(open_app: Any, onnx_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("reload")
    with open_app(root) as c:
        c.broken = broken_models(onnx_model_path, root)  # type: ignore[attr-defined]
        yield c


NAMES = [
    "truncated_1pct", "truncated_half", "truncated_99pct", "truncated_last_byte", "empty",
    "random_bytes", "mangled_header", "jpeg_named_onnx", "no_contract", "contract_version_99",
    "wrong_input_size", "nan_weights", "a_folder",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_broken_model_is_refused_and_the_old_one_serves(client: Any, name: str, hostile) -> None:
    before = client.get("/v1/model").json()
    r = client.post("/v1/admin/reload", json={"path": str(client.broken[name])})
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("model not reloaded, the old one keeps serving: ")
    after = client.get("/v1/model").json()
    assert (after["model_version"], after["file_sha256"]) == (
        before["model_version"],
        before["file_sha256"],
    )
    photo = hostile.photo((70, 50 + NAMES.index(name)), fmt="JPEG")
    scored = client.post("/v1/score", files={"image": ("a.jpg", photo)})
    assert scored.status_code == 200 and scored.json()["model_version"] == before["model_version"]
    assert client.get("/readyz").status_code == 200


def test_truncated_deploy_and_sighup_under_load(
    start_server: Any, served_model: Path, rel_keys: dict[str, str], hostile: Any
) -> None:
    server = start_server()
    with server.client(rel_keys["admin"]) as http:
        version = http.get("/v1/model").json()["model_version"]
    failures: list[str] = []
    stop = threading.Event()

    def client_loop(seed: int) -> None:
        with server.client(rel_keys["crawler"]) as http:
            i = 0
            while not stop.is_set():
                i += 1
                photo = hostile.photo((100 + seed, 60 + i % 500), fmt="JPEG")
                r = http.post("/v1/score", files={"image": ("a.jpg", photo)})
                if r.status_code != 200 or r.json()["model_version"] != version:
                    failures.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=client_loop, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    try:
        good = served_model.read_bytes()
        for keep in (0.5, 0.9):  # a copy cut short, twice
            served_model.write_bytes(good[: int(len(good) * keep)])
            server.process.send_signal(signal.SIGHUP)
            with server.client() as http:
                _wait_refusals(http, count=1 + (keep == 0.9))
        served_model.write_bytes(good)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not failures, failures[:3]
    assert server.alive()
    assert server.log_text().count("model reload refused") == 2


def _wait_refusals(http: Any, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while f'outcome="refused"}} {float(count)}' not in http.get("/metrics").text:
        assert time.monotonic() < deadline, "the reload was not refused in time"
        time.sleep(0.1)
