"""Operations: liveness, readiness, metrics, the model's contract, hot reload."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from counterscan.serve.api import schemas as m
from counterscan.serve.api.deps import ModelDep
from counterscan.serve.api.errors import error_responses
from counterscan.serve.api.security import Principal, require_role
from counterscan.serve.inference.reload import OnlyTheServedFile, reload_model, restart_workers
from counterscan.serve.inference.served import ServedModel
from counterscan.serve.metrics import Metrics

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers", response_model=m.Health)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: model warmed up and database reachable",
    response_model=m.Ready,
    responses={503: {"model": m.NotReady, "description": "Not ready: model or database"}},
)
async def readyz(request: Request) -> JSONResponse:
    model: ServedModel | None = getattr(request.app.state, "model", None)
    store = getattr(request.app.state, "store", None)
    if model is None or not model.ready:
        return JSONResponse({"status": "not ready", "detail": "model not loaded"}, 503)
    if store is None or not await anyio.to_thread.run_sync(store.ping):
        return JSONResponse({"status": "not ready", "detail": "database unreachable"}, 503)
    return JSONResponse({"status": "ready", "model_version": model.contract.model_version})


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    store = getattr(request.app.state, "store", None)
    if store is not None:
        try:  # the inspection queue's depth, read when scraped
            depth = await anyio.to_thread.run_sync(store.queue_depth)
        except Exception:
            depth = {}
        for priority, count in depth.items():
            registry.review_queue.labels(priority).set(count)
    body, content_type = registry.render()
    return Response(body, media_type=content_type)


@router.get(
    "/v1/model",
    summary="The model being served (its contract)",
    tags=["model"],
    response_model=m.ModelInfo,
    responses=error_responses(401, 503),  # any key may: never 403
)
def model_info(principal: Annotated[Principal, require_role()], model: ModelDep) -> dict[str, Any]:
    return model.scorer.describe()


@router.post(
    "/v1/admin/reload",
    summary="Load a model, warm it up, then serve it",
    tags=["model"],
    response_model=m.ModelInfo,
    responses=error_responses(401, 403, 409, 413, 422),
)
async def admin_reload(
    request: Request,
    principal: Annotated[Principal, require_role("admin")],
    body: Annotated[m.ReloadRequest | None, Body()] = None,
) -> dict[str, Any]:
    path = body.path if body else None
    if request.app.state.settings.workers == 1:
        return (await reload_model(request.app, path)).describe()
    try:  # several worker processes: check the file, then have the supervisor restart them
        return (await restart_workers(request.app, path)).describe()
    except OnlyTheServedFile as e:
        raise HTTPException(409, str(e)) from None
