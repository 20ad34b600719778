"""A real `counterscan serve` process on a free loopback port: start, ready, score over HTTP,
SIGHUP reload (a good file, then a broken one), stop. And the service never imports torch."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.helpers.live_server import LiveServer, ServerSpec
from tests.helpers.net import wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSCAN_")}
    env["COUNTERSCAN_INTRA_OP_THREADS"] = "1"
    return env


def _server(tmp_path: Path, model: Path, *args: str) -> LiveServer:
    """`counterscan serve` on SQLite under tmp_path, its output in tmp_path/serve.log."""
    spec = ServerSpec(
        model=model,
        db=f"sqlite:///{tmp_path / 'cs.db'}",
        data_dir=tmp_path / "store",
        log_path=tmp_path / "serve.log",
        args=list(args),
    )
    return LiveServer(spec)


def test_serve_process_end_to_end(
    tmp_path: Path, onnx_model_path, model_variant, make_image, model_contract
):
    served = tmp_path / "model.onnx"
    shutil.copy(onnx_model_path, served)
    server = _server(tmp_path, served).start()
    proc = server.process
    assert proc is not None
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            r = http.post("/v1/score", files={"image": ("p.jpg", make_image(seed=1), "image/jpeg")})
            assert r.status_code == 200, r.text
            assert r.json()["model_version"] == model_contract.model_version
            files = [("images", (f"{i}.jpg", make_image(seed=i), "image/jpeg")) for i in range(3)]
            files.append(("images", ("bad.jpg", b"junk", "image/jpeg")))
            results = http.post("/v1/score/batch", files=files).json()["results"]
            assert [x["ok"] for x in results] == [True, True, True, False]

            # Deploy a new model over the served file, then SIGHUP.
            shutil.copy(model_variant("v2"), served)
            proc.send_signal(signal.SIGHUP)
            wait_until(
                lambda: http.get("/v1/model").json()["model_version"] == "v2",
                timeout=60,
                what="reload to v2",
            )
            # A broken file and SIGHUP: refused, v2 keeps serving, the process lives on.
            served.write_bytes(b"broken")
            proc.send_signal(signal.SIGHUP)
            wait_until(
                lambda: 'outcome="refused"} 1.0' in http.get("/metrics").text,
                timeout=60,
                what="refusal",
            )
            assert proc.poll() is None
            assert http.get("/v1/model").json()["model_version"] == "v2"
            r = http.post("/v1/score", files={"image": ("p.jpg", make_image(seed=2), "image/jpeg")})
            assert r.status_code == 200 and r.json()["model_version"] == "v2"
        # uvicorn shuts down gracefully, then re-raises the signal: exit by SIGTERM.
        assert server.stop() in (0, -signal.SIGTERM)
    finally:
        server.stop()
    text = (tmp_path / "serve.log").read_text()
    assert f"model reloaded: {model_contract.model_version} -> v2" in text
    assert "model reload refused" in text
    assert "Application shutdown complete" in text


def test_serve_refuses_public_host_without_keys(tmp_path: Path, onnx_model_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "counterscan", "serve", "--model", str(onnx_model_path),
         "--host", "0.0.0.0", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, env=_env(), timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "refusing to listen on 0.0.0.0 without API keys" in lines[0]


def test_serve_bad_model_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    proc = subprocess.run(
        [sys.executable, "-m", "counterscan", "serve", "--model", str(bad),
         "--data-dir", str(tmp_path)],
        capture_output=True, text=True, env=_env(), timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "is not a loadable ONNX model" in proc.stderr


def test_serving_never_imports_torch(tmp_path: Path, onnx_model_path, make_image) -> None:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(make_image(size=(640, 480), seed=4))
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from fastapi.testclient import TestClient
        from counterscan.serve.app import create_app
        from counterscan.serve.settings import Settings

        settings = Settings(model=Path({str(onnx_model_path)!r}),
                            data_dir=Path({str(tmp_path / "store")!r}), intra_op_threads=1)
        with TestClient(create_app(settings)) as client:
            files = {{"image": ("p.jpg", Path({str(photo)!r}).read_bytes(), "image/jpeg")}}
            r = client.post("/v1/score", files=files, data={{"heatmap": "1"}})
            assert r.status_code == 200, r.text
            client.get("/metrics")
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision"))
        assert not heavy, heavy
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("ok")


def test_admin_reload_restarts_every_worker(tmp_path: Path, onnx_model_path, model_variant) -> None:
    """`--workers 2`: POST /v1/admin/reload checks the served file, then has uvicorn's
    supervisor replace both workers; a broken file restarts nothing; another path is 409."""
    served = tmp_path / "model.onnx"
    shutil.copy(onnx_model_path, served)
    server = _server(tmp_path, served, "--workers", "2").start()
    proc = server.process
    assert proc is not None

    def versions(n: int = 12) -> set[str]:
        seen = set()
        for _ in range(n):  # a new connection each time, so both workers get asked
            with httpx.Client(base_url=server.url, timeout=30) as one:
                seen.add(one.get("/v1/model").json()["model_version"])
        return seen

    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            before = versions()
            assert len(before) == 1 and "v2" not in before

            served.write_bytes(b"broken")
            r = http.post("/v1/admin/reload")
            assert r.status_code == 422 and "old one keeps serving" in r.json()["detail"]

            r = http.post("/v1/admin/reload", json={"path": str(model_variant("v2"))})
            assert r.status_code == 409 and "copy the new model over it" in r.json()["detail"]

            shutil.copy(model_variant("v2"), served)
            r = http.post("/v1/admin/reload")
            assert r.status_code == 200 and r.json()["model_version"] == "v2"
            wait_until(
                lambda: versions() == {"v2"},
                timeout=120,
                what=f"both workers on v2; server log:\n{server.log_text()[-3000:]}",
            )
        assert proc.poll() is None
    finally:
        server.stop()
    text = (tmp_path / "serve.log").read_text()
    assert text.count("restarting processes") == 1  # uvicorn's supervisor, once
    assert "model reload refused, workers not restarted" in text
