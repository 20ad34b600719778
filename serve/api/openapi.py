"""The OpenAPI document (/openapi.json, /docs): FastAPI builds it from the routes, which declare
their answers (`response_model=`, `responses=` from api/errors.py; the shapes are api/schemas/).

This adds only what holds for the whole API and no route can say about itself:
- the API-key security schemes, and on each operation that needs a key which roles it accepts,
  read from the route's `security.require_role` dependency;
- FastAPI's own list-shaped 422 (HTTPValidationError) replaced by ErrorBody, should a route not
  declare its 422: the error handlers (api/errors.py) answer every 422 as `{"detail": str}`.
tests/serve/api/test_openapi.py checks every route against the document, and
tests/reliability/test_rel_fuzz.py fails when an answer is not in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from counterscan.serve.api.errors import ERRORS

SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "Bearer": {"type": "http", "scheme": "bearer"},
}
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")
_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


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
    components["securitySchemes"] = SECURITY_SCHEMES
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        roles = required_roles(route)
        for method in sorted(route.methods or ()):
            operation = doc["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _secure(operation, roles)
                _detail_422(operation)


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


def required_roles(route: Any) -> tuple[str, ...] | None:
    """The roles a route's `require_role` accepts (empty: any key); None when it needs no key."""
    for call in _calls(route.dependant):
        roles = getattr(call, "roles", None)
        if isinstance(roles, tuple):
            return roles
    return None


def _secure(operation: dict[str, Any], roles: tuple[str, ...] | None) -> None:
    if roles is None:
        return
    operation["security"] = [{"ApiKey": []}, {"Bearer": []}]
    allowed = [*roles, "admin"] if roles and "admin" not in roles else list(roles)
    note = f"API key role: {' or '.join(allowed)}." if allowed else "Any API key."
    operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()


def _detail_422(operation: dict[str, Any]) -> None:
    response = operation.get("responses", {}).get("422")
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref", "").endswith("/HTTPValidationError"):
        operation["responses"]["422"] = {"description": ERRORS[422], "content": _ERROR_BODY}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)
