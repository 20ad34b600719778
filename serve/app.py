"""`create_app(settings) -> FastAPI`: the scoring service, assembled.

Nothing happens at import time. The lifespan loads the ONNX model, warms it up, opens the
store and starts the micro-batcher; `/readyz` answers 200 only after all of that. Shared
objects live on `app.state` (settings, metrics, keyring, engine, store) and reach the routes
through `counterscan.serve.deps`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from counterscan import __version__
from counterscan.errors import CounterscanError
from counterscan.serve.engine import Engine
from counterscan.serve.limits import BodyLimitMiddleware
from counterscan.serve.metrics import Metrics, MetricsMiddleware
from counterscan.serve.openapi import install_openapi
from counterscan.serve.prepare import ImageRejected
from counterscan.serve.reload import install_sighup, remove_sighup
from counterscan.serve.routers import ops, score
from counterscan.serve.scorer import Scorer, Threads
from counterscan.serve.security import KeyRing
from counterscan.serve.settings import Settings, load_settings
from counterscan.serve.similar.matching import MatchConfig
from counterscan.serve.similar.service import SimilarCases, limit_blas_threads
from counterscan.serve.storage import EvidenceUnwritable, ItemNotFound, StorageUnavailable, Store

log = logging.getLogger("counterscan.serve")

# Routers written alongside this file; included when present (see _optional_router).
OPTIONAL_ROUTERS = (
    "counterscan.serve.routers.items",
    "counterscan.serve.routers.similar",
    "counterscan.serve.routers.console",
)


def create_app(
    settings: Settings | None = None,
    *,
    scorer: Scorer | None = None,
    store: Store | None = None,
) -> FastAPI:
    """Build the app. `scorer` / `store`: already loaded/opened ones to adopt (the CLI checks
    both before it starts the server, to fail with a one-line reason)."""
    settings = settings or load_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine, opened = await _start(settings, metrics, scorer, store)
        try:
            app.state.similar = await anyio.to_thread.run_sync(_similar_cases, settings, opened)
        except BaseException:
            await engine.stop()
            await anyio.to_thread.run_sync(opened.close)
            raise
        app.state.engine, app.state.store = engine, opened
        app.state.reload_lock = asyncio.Lock()
        sighup = settings.reload_on_sighup and install_sighup(app)
        log.info(
            "ready: model %s (input %dpx, %d ORT threads), database %s",
            engine.contract.model_version,
            engine.contract.input_size,
            settings.intra_op_threads,
            opened.backend,
        )
        try:
            yield
        finally:
            if sighup:
                remove_sighup()
            await engine.stop()
            await anyio.to_thread.run_sync(opened.close)

    app = FastAPI(
        title="counterscan",
        version=__version__,
        summary="Scores product-listing photos for the chance that they show counterfeit goods.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.keyring = KeyRing(settings.api_keys)

    # Added inner first: metrics see every answer, the 413s of the body limit included.
    app.add_middleware(BodyLimitMiddleware, limit_for=_body_limits(settings))
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    _add_error_handlers(app)

    app.include_router(ops.router)
    app.include_router(score.router)
    for module in OPTIONAL_ROUTERS:
        router = _optional_router(module)
        if router is not None:
            app.include_router(router)
    install_openapi(app)
    return app


async def _start(
    settings: Settings, metrics: Metrics, scorer: Scorer | None, store: Store | None
) -> tuple[Engine, Store]:
    if scorer is None:
        if settings.model is None:
            raise CounterscanError("no model to serve: set COUNTERSCAN_MODEL or --model")
        threads = Threads.from_settings(settings)
        scorer = await anyio.to_thread.run_sync(Scorer.load, settings.model, threads)
    if store is None:
        store = Store(settings.db_url, settings.data_dir)
        await anyio.to_thread.run_sync(store.open)
    engine = Engine(scorer, settings, metrics)
    try:
        await engine.start()  # warm-up, then the batcher
    except BaseException:
        await anyio.to_thread.run_sync(store.close)
        raise
    return engine, store


def _similar_cases(settings: Settings, store: Store) -> SimilarCases:
    limit_blas_threads()
    cases = SimilarCases(
        MatchConfig(similar=settings.similar_threshold), ann_from=settings.similar_ann_from
    )
    cases.load(store)
    return cases


def _body_limits(settings: Settings) -> Any:
    single = {"/v1/score": settings.single_body_bytes}

    def limit_for(path: str) -> int:
        return single.get(path.rstrip("/") or "/", settings.max_body_bytes)

    return limit_for


def _optional_router(module: str) -> Any:
    try:
        return importlib.import_module(module).router
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        log.warning("%s is missing; its routes are not served", module)
        return None


def _add_error_handlers(app: FastAPI) -> None:
    """Every error is `{"detail": "<words>"}` (notes/api.md)."""

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
