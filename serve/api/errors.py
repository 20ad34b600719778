"""Every error the API answers is `{"detail": "<one line>"}`: the exception handlers that make
it so, for the service's own errors and for FastAPI's and Starlette's, and the one table of
error statuses that routes document (`responses=error_responses(401, 403, ...)`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, routing
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from counterscan.errors import CounterscanError
from counterscan.serve.api.schemas import ErrorBody
from counterscan.serve.pipeline.prepare import ImageRejected
from counterscan.serve.storage import EvidenceUnwritable, ItemNotFound, StorageUnavailable
from counterscan.serve.storage.cases import CaseConflict, CaseNotFound

# What each status means, wherever a route answers it (the descriptions in /openapi.json).
ERRORS = {
    401: "No API key, or one the server does not know",
    403: "The key's role may not do this",
    404: "No such item, case, seller or alert (or the item's stored image is gone)",
    409: "Not possible in the current state: a case step its status does not allow, or a "
    "reload of another file while several worker processes serve",
    413: "The request body, an image, or a batch is over a limit",
    415: "Not a supported image (or not a supported batch encoding)",
    422: "Malformed request",
    503: "The model is not loaded, the database is unavailable, or a setting the answer needs "
    "is missing (the evidence signing key)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that can answer these error statuses, each an ErrorBody."""
    return {status: {"model": ErrorBody, "description": ERRORS[status]} for status in statuses}


def install_error_handlers(app: FastAPI) -> None:
    """Every error is `{"detail": "<words>"}`; FastAPI's own 422 is a list, made one line here."""

    def detail(status: int, message: str) -> JSONResponse:
        return JSONResponse({"detail": message}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
        return detail(422, describe_validation(exc.errors()))

    @app.exception_handler(ImageRejected)
    async def _rejected(request: Request, exc: ImageRejected) -> JSONResponse:
        return detail(exc.status, exc.detail)

    @app.exception_handler(ItemNotFound)
    async def _not_found(request: Request, exc: ItemNotFound) -> JSONResponse:
        return detail(404, str(exc))

    @app.exception_handler(CaseNotFound)
    async def _no_case(request: Request, exc: CaseNotFound) -> JSONResponse:
        return detail(404, str(exc))

    @app.exception_handler(CaseConflict)
    async def _case_conflict(request: Request, exc: CaseConflict) -> JSONResponse:
        return detail(409, str(exc))

    @app.exception_handler(StorageUnavailable)
    async def _db_down(request: Request, exc: StorageUnavailable) -> JSONResponse:
        return detail(503, f"the database is unavailable: {exc}")

    @app.exception_handler(EvidenceUnwritable)
    async def _disk_full(request: Request, exc: EvidenceUnwritable) -> JSONResponse:
        return detail(503, str(exc))  # e.g. "... data folder: No space left on device"

    @app.exception_handler(CounterscanError)
    async def _user_error(request: Request, exc: CounterscanError) -> JSONResponse:
        return detail(422, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if exc.status_code == 400:  # Starlette's form parser: a body it could not read
            return detail(*body_parse_error(str(exc.detail)))
        if exc.status_code == 405:  # Starlette names only the first route's methods
            allow = allowed_methods(request.app, request.url.path)
            if allow:
                headers = {**(exc.headers or {}), "Allow": ", ".join(allow)}
                return JSONResponse({"detail": exc.detail}, status_code=405, headers=headers)
        return await http_exception_handler(request, exc)


def body_parse_error(message: str) -> tuple[int, str]:
    """Starlette answers a multipart body it cannot parse with 400; the API says 413 for a
    limit (too many files or fields, a part too large) and 422 for a malformed request."""
    lowered = message.lower()
    if "too many" in lowered or "maximum size" in lowered:
        return 413, message
    return 422, f"malformed request: {message}"


def describe_validation(errors: Any) -> str:
    """FastAPI's list of validation errors -> one line, e.g. "image (body): Field required"."""
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        where = f"{'.'.join(loc[1:])} ({loc[0]})" if len(loc) > 1 else ".".join(loc) or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "malformed request: " + "; ".join(parts)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at `path` (one path may have a route per method, e.g.
    GET and POST /v1/cases)."""
    iterate = getattr(routing, "iter_route_contexts", None)
    routes = iterate(app.routes) if iterate else app.routes
    found: set[str] = set()
    for context in routes:
        route = getattr(context, "original_route", context)
        methods = getattr(route, "methods", None)
        path_format = getattr(context, "path_format", None)
        if methods and path_format and compile_path(path_format)[0].match(path):
            found |= set(methods)
    return sorted(found)
