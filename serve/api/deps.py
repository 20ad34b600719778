"""FastAPI dependencies: the app's shared objects, read from `app.state` (set up by the
lifespan in app.py). Routers use these instead of importing globals, so tests can build many
independent apps in one process. They are `async def` because FastAPI runs a plain `def`
dependency in its thread pool: a hand-over to a thread and back per dependency and request
(bench/README.md, issue 17)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from counterscan.serve.inference.served import ServedModel
from counterscan.serve.pipeline.scoring import Scoring
from counterscan.serve.settings import Settings
from counterscan.serve.storage import Store


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_model(request: Request) -> ServedModel:
    model: ServedModel | None = getattr(request.app.state, "model", None)
    if model is None or not model.ready:
        raise HTTPException(503, "the model is not loaded yet")
    return model


async def get_scoring(request: Request) -> Scoring:
    await get_model(request)  # scoring needs the model loaded and warm
    return request.app.state.scoring


async def get_store(request: Request) -> Store:
    store: Store | None = getattr(request.app.state, "store", None)
    if store is None:
        raise HTTPException(503, "the database is not open yet")
    return store


# For signatures: `model: ModelDep` (ruff's B008 forbids calls in argument defaults).
ModelDep = Annotated[ServedModel, Depends(get_model)]
ScoringDep = Annotated[Scoring, Depends(get_scoring)]
StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
