"""The OpenAPI document (/openapi.json, /docs) made to say what the service really answers.

FastAPI documents each route from its signature; this adds what it cannot see there:
- every error body is `{"detail": str}` (ErrorBody), not FastAPI's list-shaped 422;
- the errors a route can give, found from the route itself: 401/403 where a role is required
  (`security.require_role`), 404 with an id in the path, 413 with a request body (the body
  limit), 422 with parameters or a body, 503 where the model or the database is needed; plus
  the route-specific ones in EXTRA_ERRORS;
- the 200 bodies of routes that build dicts (api/schemas.py) and non-JSON content types;
- the API-key security schemes, and which roles each operation accepts.
What a route declares itself (`response_model=`, `responses=`) is kept as it is. New routes
get the derived errors without doing anything; tests/reliability/test_rel_fuzz.py fails when
an answer is not in this document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from counterscan.formats import MIME_TYPES, UNKNOWN_MIME
from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import get_engine, get_store

ERRORS = {
    401: "No API key, or one the server does not know",
    403: "The key's role may not do this",
    404: "No item with this id (or its stored image is gone)",
    413: "The request body, an image, or a batch is over a limit",
    415: "Not a supported image (or not a supported batch encoding)",
    422: "Malformed request",
    503: "The model is not loaded or the database is unavailable",
}
EXTRA_ERRORS: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/v1/score"): (415,),
    ("POST", "/v1/score/batch"): (415,),
    ("GET", "/v1/items/{item_id}/heatmap"): (413, 415),  # the stored image is decoded again
}
BODIES: dict[tuple[str, str], type[BaseModel]] = {
    ("GET", "/healthz"): m.Health,
    ("GET", "/readyz"): m.Ready,
    ("GET", "/v1/model"): m.ModelInfo,
    ("POST", "/v1/admin/reload"): m.ModelInfo,
    ("POST", "/v1/score"): m.ScoreResult,
    ("POST", "/v1/score/batch"): m.BatchResult,
    ("GET", "/v1/queue"): m.QueuePage,
    ("GET", "/v1/items/{item_id}"): m.ItemDetail,
    ("POST", "/v1/items/{item_id}/verdict"): m.ItemDetail,
    ("GET", "/v1/items/{item_id}/similar"): m.SimilarCases,
}
BINARY = {"schema": {"type": "string", "format": "binary"}}
IMAGE_TYPES = (*MIME_TYPES, UNKNOWN_MIME)
CONTENT: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/metrics"): {"text/plain": {"schema": {"type": "string"}}},
    ("GET", "/v1/items/{item_id}/image"): dict.fromkeys(IMAGE_TYPES, BINARY),
    ("GET", "/v1/items/{item_id}/thumbnail"): {"image/jpeg": BINARY},
}
SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "Bearer": {"type": "http", "scheme": "bearer"},
}
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` (served at /openapi.json) return the completed document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            complete(generate(), app)  # generate() caches its result in app.openapi_schema
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def complete(doc: dict[str, Any], app: FastAPI) -> None:
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _FASTAPI_422:
        schemas.pop(name, None)
    _, defs = models_json_schema(
        [(model, "serialization") for model in _models()],
        ref_template="#/components/schemas/{model}",
    )
    schemas.update(defs.get("$defs", {}))
    components["securitySchemes"] = SECURITY_SCHEMES
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            operation = doc["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _complete_operation(operation, route, method)


def api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route of the app with its full path (`path_format`), `methods` and `dependant`
    (FastAPI >= 0.160 keeps included routers nested; `iter_route_contexts` flattens them)."""
    iterate = getattr(routing, "iter_route_contexts", None)
    if iterate is None:  # pragma: no cover - older FastAPI: routes are flat
        yield from (r for r in app.routes if isinstance(r, APIRoute))
        return
    for context in iterate(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def _models() -> list[type[BaseModel]]:
    return [m.ErrorBody, m.NotReady, *dict.fromkeys(BODIES.values())]


def _complete_operation(operation: dict[str, Any], route: Any, method: str) -> None:
    key = (method, route.path_format)
    responses = operation.setdefault("responses", {})
    # The route's own success status (e.g. 201 of POST /v1/cases), else 200.
    success = next((code for code in responses if code.startswith("2")), "200")
    ok = responses.setdefault(success, {"description": "Successful Response"})
    if key in CONTENT:
        ok["content"] = CONTENT[key]
    elif key in BODIES and "$ref" not in _json_schema(ok):
        ok["content"] = {"application/json": {"schema": _ref(BODIES[key].__name__)}}
    if key == ("GET", "/readyz"):
        responses["503"] = _response("Not ready: model or database", "NotReady")

    roles = required_roles(route)
    if roles is not None:
        operation["security"] = [{"ApiKey": []}, {"Bearer": []}]
        allowed = [*roles, "admin"] if roles and "admin" not in roles else list(roles)
        note = f"API key role: {' or '.join(allowed)}." if allowed else "Any API key."
        operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
    for status in sorted(derived_errors(route, method, roles) | set(EXTRA_ERRORS.get(key, ()))):
        current = responses.get(str(status))
        if current is None or _is_fastapi_422(current):
            responses[str(status)] = _response(ERRORS[status], "ErrorBody")


def derived_errors(route: Any, method: str, roles: tuple[str, ...] | None) -> set[int]:
    dependant = route.dependant
    errors: set[int] = set()
    if roles is not None:
        errors |= {401, 403}
    if _all_params(dependant, "path_params"):
        errors.add(404)
    if method in ("POST", "PUT", "PATCH"):
        errors |= {413, 422}  # the body limit; a body that does not parse
    if any(_all_params(dependant, kind) for kind in ("path_params", "query_params", "body_params")):
        errors.add(422)
    if any(call in (get_engine, get_store) for call in _calls(dependant)):
        errors.add(503)
    return errors


def required_roles(route: Any) -> tuple[str, ...] | None:
    """The roles a route's `require_role` accepts (empty: any key); None when it needs no key."""
    for call in _calls(route.dependant):
        roles = getattr(call, "roles", None)
        if isinstance(roles, tuple):
            return roles
    return None


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _all_params(dependant: Dependant, kind: str) -> list[Any]:
    found = list(getattr(dependant, kind))
    for sub in dependant.dependencies:
        found += _all_params(sub, kind)
    return found


def _json_schema(response: dict[str, Any]) -> dict[str, Any]:
    return response.get("content", {}).get("application/json", {}).get("schema", {})


def _is_fastapi_422(response: dict[str, Any]) -> bool:
    return _json_schema(response).get("$ref", "").endswith("/HTTPValidationError")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, model: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}
