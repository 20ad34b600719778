"""Hot reload through POST /v1/admin/reload: the new model serves only once it is loaded and
warm; a broken file is refused and the old model keeps serving."""

from __future__ import annotations

import threading

import onnx


def test_reload_swaps_the_model(app_client, model_variant, make_image, model_contract) -> None:
    data = make_image(seed=3)
    before = app_client.post("/v1/score", files={"image": ("a.jpg", data, "image/jpeg")}).json()
    r = app_client.post("/v1/admin/reload", json={"path": str(model_variant("v2"))})
    assert r.status_code == 200, r.text
    assert r.json()["model_version"] == "v2"
    assert app_client.get("/v1/model").json()["model_version"] == "v2"
    assert app_client.get("/readyz").json()["model_version"] == "v2"
    after = app_client.post("/v1/score", files={"image": ("a.jpg", data, "image/jpeg")}).json()
    # A new model is a new result (not the cached one of the old model).
    assert after["model_version"] == "v2" and after["cached"] is False
    assert after["id"] != before["id"]
    metrics = app_client.get("/metrics").text
    assert 'counterscan_model_reloads_total{outcome="ok"} 1.0' in metrics
    assert 'model_version="v2"} 1.0' in metrics
    assert f'model_version="{model_contract.model_version}"}}' not in metrics


def test_reload_without_path_rereads_the_file(app_client, model_contract) -> None:
    r = app_client.post("/v1/admin/reload")
    assert r.status_code == 200
    assert r.json()["model_version"] == model_contract.model_version


def _assert_refused(client, path, words: str, version: str) -> None:
    r = client.post("/v1/admin/reload", json={"path": str(path)})
    assert r.status_code == 422, r.text
    assert "the old one keeps serving" in r.json()["detail"]
    assert words in r.json()["detail"]
    assert client.get("/v1/model").json()["model_version"] == version
    assert client.get("/readyz").status_code == 200


def test_broken_files_are_refused(
    app_client, tmp_path, onnx_model_path, make_image, model_contract
) -> None:
    version = model_contract.model_version
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07not a model")
    _assert_refused(app_client, garbage, "not a loadable ONNX model", version)

    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(onnx_model_path.read_bytes()[:100_000])
    _assert_refused(app_client, truncated, "not a loadable ONNX model", version)

    _assert_refused(app_client, tmp_path / "missing.onnx", "does not exist", version)

    no_contract = onnx.load(str(onnx_model_path))
    del no_contract.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    onnx.save(no_contract, str(bare))
    _assert_refused(app_client, bare, "no counterscan contract", version)

    r = app_client.post("/v1/score", files={"image": ("a.jpg", make_image(), "image/jpeg")})
    assert r.status_code == 200 and r.json()["model_version"] == version
    assert (
        'counterscan_model_reloads_total{outcome="refused"} 4.0' in app_client.get("/metrics").text
    )


def test_requests_keep_flowing_during_a_reload(app_client, model_variant, make_image) -> None:
    variant = model_variant("v3")
    statuses: list[int] = []

    def traffic() -> None:
        for i in range(12):
            files = {"image": ("a.jpg", make_image(seed=900 + i), "image/jpeg")}
            statuses.append(app_client.post("/v1/score", files=files).status_code)

    worker = threading.Thread(target=traffic)
    worker.start()
    r = app_client.post("/v1/admin/reload", json={"path": str(variant)})
    worker.join()
    assert r.status_code == 200
    assert statuses == [200] * 12
