"""The OpenAPI document against the routes it is built from: every route is in it, with a
component model (or a content type) for its answer, its error statuses and its security; and
declaring the response models changed no answer, field or field order."""

from __future__ import annotations

import base64
import inspect
import json
from typing import Any

import fastapi.routing
import numpy as np
import pytest
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel

from counterscan.serve.api.deps import get_model, get_scoring, get_store
from counterscan.serve.api.errors import ERRORS
from counterscan.serve.api.openapi import api_routes, required_roles
from counterscan.serve.app import create_app
from counterscan.serve.settings import Settings
from counterscan.serve.similar.evaluate import make_copy

APP = create_app(Settings(model=None))
DOCUMENT = APP.openapi()
ROUTES = [
    (route, method)
    for route in api_routes(APP)
    if route.include_in_schema
    for method in sorted(route.methods)
]
IDS = [f"{m} {r.path_format}" for r, m in ROUTES]
# Errors a route cannot show in its signature: a photo that is no image (415) or too large
# (413) once decoded; a reload of another file under several workers (409); not ready (503).
NOT_DERIVED = {
    ("POST", "/v1/score"): {415},
    ("POST", "/v1/score/batch"): {415},
    ("GET", "/v1/items/{item_id}/heatmap"): {413, 415},
    ("POST", "/v1/admin/reload"): {409},
    ("GET", "/readyz"): {503},
    ("POST", "/v1/cases"): {404},  # an item id in the body that is not stored
    # a workflow step the case's status does not allow
    ("POST", "/v1/cases/{case_id}/status"): {409},
    ("POST", "/v1/cases/{case_id}/close"): {409},
    ("POST", "/v1/cases/{case_id}/items"): {409},
    ("DELETE", "/v1/cases/{case_id}/items/{item_id}"): {409},
}
REF = "#/components/schemas/"


def operation(route: Any, method: str) -> dict[str, Any]:
    return DOCUMENT["paths"][route.path_format][method.lower()]


def test_the_document_holds_exactly_the_apps_routes() -> None:
    documented = {(p, m.upper()) for p, ops in DOCUMENT["paths"].items() for m in ops}
    assert documented == {(r.path_format, m) for r, m in ROUTES}
    assert ("GET", "/") not in {(m, r.path_format) for r, m in ROUTES}  # the console page
    assert len(ROUTES) >= 14


@pytest.mark.parametrize(("route", "method"), ROUTES, ids=IDS)
def test_each_answer_is_a_component_model_or_a_content_type(route: Any, method: str) -> None:
    ok = operation(route, method)["responses"][str(route.status_code or 200)]["content"]
    model = getattr(route, "original_route", route).response_model
    if "application/json" in ok:
        assert isinstance(model, type) and issubclass(model, BaseModel), "no response_model"
        assert ok == {"application/json": {"schema": {"$ref": REF + model.__name__}}}
        assert model.__name__ in DOCUMENT["components"]["schemas"]
    else:  # bytes (images) or text (metrics): declared on the route, no model
        assert model is None
        assert ok and all(c["schema"]["type"] == "string" for c in ok.values()), ok


@pytest.mark.parametrize(("route", "method"), ROUTES, ids=IDS)
def test_each_route_documents_its_errors(route: Any, method: str) -> None:
    responses = operation(route, method)["responses"]
    documented = {int(status) for status in responses if not status.startswith("2")}
    expected = derived_errors(route, method) | NOT_DERIVED.get((method, route.path_format), set())
    assert documented == expected
    own_body = {503} if route.path_format == "/readyz" else set()  # NotReady, tested below
    for status in documented - own_body:
        assert responses[str(status)] == {
            "description": ERRORS[status],
            "content": {"application/json": {"schema": {"$ref": REF + "ErrorBody"}}},
        }
    assert "HTTPValidationError" not in json.dumps(DOCUMENT)  # FastAPI's list-shaped 422


def test_not_ready_has_its_own_body() -> None:
    not_ready = DOCUMENT["paths"]["/readyz"]["get"]["responses"]["503"]
    assert not_ready["content"]["application/json"]["schema"] == {"$ref": REF + "NotReady"}


@pytest.mark.parametrize(("route", "method"), ROUTES, ids=IDS)
def test_each_route_documents_its_security(route: Any, method: str) -> None:
    op = operation(route, method)
    roles = required_roles(route)
    if roles is None:
        assert "security" not in op and route.path_format in ("/healthz", "/readyz", "/metrics")
        return
    assert op["security"] == [{"ApiKey": []}, {"Bearer": []}]
    who = " or ".join(dict.fromkeys([*roles, "admin"]))  # admin may do everything
    assert op["description"].endswith(f"API key role: {who}." if roles else "Any API key.")
    assert set(DOCUMENT["components"]["securitySchemes"]) == {"ApiKey", "Bearer"}


def derived_errors(route: Any, method: str) -> set[int]:
    """What the route's signature says it can answer: a key (401) and a role (403), an item id
    (404), a body (413, the body limit), anything to validate (422), the model or database
    (503)."""
    roles = required_roles(route)
    errors = ({401} if roles is not None else set()) | ({403} if roles else set())
    if params(route.dependant, "path_params"):
        errors.add(404)
    if method in ("POST", "PATCH"):  # a body, which may be over the limit or malformed
        errors |= {413, 422}
    if any(params(route.dependant, kind) for kind in PARAMS):
        errors.add(422)
    if {get_model, get_scoring, get_store} & set(calls(route.dependant)):
        errors.add(503)
    return errors


PARAMS = ("path_params", "query_params", "body_params")


def params(dependant: Any, kind: str) -> list[Any]:
    found = list(getattr(dependant, kind))
    for sub in dependant.dependencies:
        found += params(sub, kind)
    return found


def calls(dependant: Any) -> list[Any]:
    return [c for d in dependant.dependencies for c in (d.call, *calls(d))]


def test_answers_are_what_the_handlers_return(app_client, make_image, monkeypatch) -> None:
    """response_model adds, drops and reorders nothing: every JSON answer of the real flow
    (score, batches, verdict, queue, item, similar cases, model) is, field for field and in
    order, the value its handler returned."""
    seen: list[tuple[Any, Any]] = []
    serialize = fastapi.routing.serialize_response

    async def spy(**kwargs: Any) -> Any:
        out = await serialize(**kwargs)
        seen.append((kwargs["response_content"], out))
        return out

    monkeypatch.setattr(fastapi.routing, "serialize_response", spy)
    photo = make_image("JPEG", (240, 200), seed=3)
    copy = make_copy(photo, "jpeg_q40", np.random.default_rng(0))
    http = app_client

    def call(method: str, url: str, **kwargs: Any) -> Any:
        r = http.request(method, url, **kwargs)
        assert r.status_code == 200, r.text
        return r.json()

    first = call("POST", "/v1/score", files={"image": ("a.jpg", photo)}, data={"heatmap": "1"})
    call("POST", "/v1/score", files={"image": ("a.jpg", photo)})  # cached
    batch = call(
        "POST", "/v1/score/batch", files=[("images", ("a.jpg", photo)), ("images", ("x", b"no"))]
    )
    assert [r["ok"] for r in batch["results"]] == [True, False]
    encoded = base64.b64encode(make_image(seed=4)).decode()
    call("POST", "/v1/score/batch", json={"items": [{"image_base64": encoded}, {}]})
    call("POST", f"/v1/items/{first['id']}/verdict", json={"verdict": "counterfeit"})
    second = call("POST", "/v1/score", files={"image": ("b.jpg", copy)})
    assert second["matches"], "the copy should match the confirmed counterfeit"
    similar = call("GET", f"/v1/items/{second['id']}/similar")
    assert similar["matches"]
    for url in ("/v1/queue?status=all", f"/v1/items/{first['id']}", "/v1/model", "/healthz"):
        call("GET", url)

    assert len(seen) == 11
    for returned, sent in seen:
        assert json.dumps(json.loads(sent)) == json.dumps(jsonable_encoder(returned))


@pytest.mark.parametrize(("route", "method"), ROUTES, ids=IDS)
def test_every_dependency_runs_on_the_event_loop(route: Any, method: str) -> None:
    """FastAPI runs a plain `def` dependency in its thread pool: a thread hand-over and back per
    dependency and request, which cost the single-image endpoint ~1 ms of CPU per request
    (bench/README.md, issue 17). The app's dependencies do no blocking work: all async."""
    sync = [c.__qualname__ for c in calls(route.dependant) if not inspect.iscoroutinefunction(c)]
    assert not sync, f"{method} {route.path_format}: sync dependencies {sync}"
