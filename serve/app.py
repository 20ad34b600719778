"""`create_app(settings) -> FastAPI`: the scoring service, assembled.

Nothing happens at import time. The lifespan loads the ONNX model, warms it up, opens the
store and starts the micro-batcher; `/readyz` answers 200 only after all of that. Shared
objects live on `app.state` (settings, metrics, keyring, model, scoring, store, similar) and reach the routes
through `counterscan.serve.api.deps`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from counterscan import __version__
from counterscan.errors import CounterscanError
from counterscan.serve.api.errors import install_error_handlers
from counterscan.serve.api.limits import BodyLimitMiddleware
from counterscan.serve.api.openapi import install_openapi
from counterscan.serve.api.routes import (
    alerts,
    cases,
    console,
    items,
    ops,
    reports,
    score,
    sellers,
    similar,
    trends,
)
from counterscan.serve.api.security import KeyRing
from counterscan.serve.gc_freeze import freeze_startup_objects
from counterscan.serve.inference.model import Scorer, Threads
from counterscan.serve.inference.reload import install_sighup, remove_sighup
from counterscan.serve.inference.served import ServedModel
from counterscan.serve.metrics import Metrics, MetricsMiddleware
from counterscan.serve.pipeline.scoring import Scoring
from counterscan.serve.sellers import service as seller_service
from counterscan.serve.sellers.webhook import WebhookSender
from counterscan.serve.settings import Settings, load_settings
from counterscan.serve.similar.matching import MatchConfig
from counterscan.serve.similar.service import SimilarCases, limit_blas_threads
from counterscan.serve.similar.sync import VerdictFollower
from counterscan.serve.storage import Store

log = logging.getLogger("counterscan.serve")


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
        model, opened = await _start(settings, metrics, scorer, store)
        scoring = Scoring(model, settings, metrics)
        try:
            follower = await anyio.to_thread.run_sync(_similar_cases, settings, opened, metrics)
            # Sellers without a stored risk (a database from before schema version 7).
            if backfilled := await anyio.to_thread.run_sync(seller_service.backfill, opened):
                log.info("seller risk computed for %d sellers", backfilled)
        except BaseException:
            await _stop(model, scoring, opened)
            raise
        app.state.similar = follower.cases
        follower.start()
        app.state.model, app.state.scoring, app.state.store = model, scoring, opened
        app.state.reload_lock = asyncio.Lock()
        sighup = settings.reload_on_sighup and install_sighup(app)
        webhook = None
        if settings.alert_webhook_url:
            webhook = WebhookSender(
                opened, settings.alert_webhook_url, settings.alert_webhook_secret
            )
            webhook.start()
        frozen = freeze_startup_objects()  # the last step of start-up: gc_freeze.py
        log.info(
            "ready: model %s (input %dpx, %d ORT threads), database %s; %d objects frozen",
            model.contract.model_version,
            model.contract.input_size,
            settings.intra_op_threads,
            opened.backend,
            frozen,
        )
        try:
            yield
        finally:
            if sighup:
                remove_sighup()
            if webhook is not None:
                await anyio.to_thread.run_sync(webhook.stop)
            await anyio.to_thread.run_sync(follower.stop)
            await _stop(model, scoring, opened)

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
    install_error_handlers(app)

    for routes in (ops, score, items, similar, sellers, trends, alerts, cases, reports, console):
        app.include_router(routes.router)
    install_openapi(app)
    return app


async def _start(
    settings: Settings, metrics: Metrics, scorer: Scorer | None, store: Store | None
) -> tuple[ServedModel, Store]:
    if scorer is None:
        if settings.model is None:
            raise CounterscanError("no model to serve: set COUNTERSCAN_MODEL or --model")
        threads = Threads.from_settings(settings)
        scorer = await anyio.to_thread.run_sync(Scorer.load, settings.model, threads)
    if store is None:
        store = Store.from_settings(settings)
        await anyio.to_thread.run_sync(store.open)
    model = ServedModel(scorer, settings, metrics)
    try:
        await model.start()  # warm-up, then the batcher
    except BaseException:
        await anyio.to_thread.run_sync(store.close)
        raise
    return model, store


async def _stop(model: ServedModel, scoring: Scoring, store: Store) -> None:
    await model.stop()
    scoring.close()
    await anyio.to_thread.run_sync(store.close)


def _similar_cases(settings: Settings, store: Store, metrics: Metrics) -> VerdictFollower:
    """The reference sets, loaded, and what keeps them in step with other processes."""
    limit_blas_threads()
    cases = SimilarCases(
        MatchConfig(similar=settings.similar_threshold), ann_from=settings.similar_ann_from
    )
    gauge = metrics.similar_verdict.labels(str(os.getpid()))
    follower = VerdictFollower(cases, store, settings.similar_sync_seconds, gauge.set)
    cases.rescan_later = follower.later
    cases.on_raised = seller_service.on_items_changed  # raised items: their sellers' risk
    follower.load()
    return follower


def _body_limits(settings: Settings) -> Any:
    single = {"/v1/score": settings.single_body_bytes}

    def limit_for(path: str) -> int:
        return single.get(path.rstrip("/") or "/", settings.max_body_bytes)

    return limit_for
