"""Operations routes: /healthz, /readyz, /metrics, GET /v1/model, and the OpenAPI page."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from counterscan.serve.app import create_app


def test_health_and_readiness(app_client, model_contract) -> None:
    assert app_client.get("/healthz").json() == {"status": "ok"}
    ready = {"status": "ready", "model_version": model_contract.model_version}
    assert app_client.get("/readyz").json() == ready


def test_not_ready_before_start_up(serve_settings) -> None:
    """Without the lifespan (no model, no store yet) readiness is 503, liveness 200."""
    client = TestClient(create_app(serve_settings()))  # not entered: lifespan not run
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "not ready"


def test_model_info_is_the_contract(app_client, model_contract) -> None:
    info = app_client.get("/v1/model").json()
    expected = json.loads(json.dumps(model_contract.to_dict()))
    assert {k: info[k] for k in expected} == expected
    assert info["input_size"] == 64
    assert info["label_names"] == ["genuine", "counterfeit"]
    assert info["embedding_dim"] == 1280 and info["cam_size"] == 2
    assert info["loaded_at"].endswith("Z")
    assert len(info["file_sha256"]) == 64


def test_metrics_exposed(app_client, make_image, model_contract) -> None:
    app_client.post("/v1/score", files={"image": ("a.jpg", make_image(), "image/jpeg")})
    app_client.post("/v1/score", files={"image": ("b.jpg", b"junk", "image/jpeg")})
    app_client.get("/v1/items/0123/nothing")
    r = app_client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    for line in (
        'counterscan_http_requests_total{method="POST",route="/v1/score",status="200"} 1.0',
        'counterscan_http_requests_total{method="POST",route="/v1/score",status="415"} 1.0',
        'counterscan_http_requests_total{method="GET",route="unmatched",status="404"} 1.0',
        'counterscan_model_info{backbone="efficientnet_lite0",contract_version="1",'
        f'input_size="64",model_version="{model_contract.model_version}"}} 1.0',
        "counterscan_inference_batch_size_count 1.0",
        "counterscan_batch_queue_depth 0.0",
        'counterscan_review_queue_items{priority="high"}',
        'counterscan_images_scored_total{outcome="scored"} 1.0',
        'counterscan_images_scored_total{outcome="error"} 1.0',
    ):
        assert line in text, line
    assert "counterscan_http_request_duration_seconds_bucket" in text


def test_each_app_has_its_own_metrics(make_client) -> None:
    a, b = make_client(), make_client()
    a.get("/healthz")
    a.get("/healthz")
    line = 'counterscan_http_requests_total{method="GET",route="/healthz",status="200"}'
    assert f"{line} 2.0" in a.get("/metrics").text
    assert line not in b.get("/metrics").text


def test_openapi_documents_both_batch_encodings(app_client) -> None:
    spec = app_client.get("/openapi.json").json()
    content = spec["paths"]["/v1/score/batch"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(content)
    assert "/v1/score" in spec["paths"] and "/v1/admin/reload" in spec["paths"]
    json.dumps(spec)
