"""FastAPI dependencies: the app's shared objects, read from `app.state` (set up by the
lifespan in app.py). Routers use these instead of importing globals, so tests can build many
independent apps in one process."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from counterscan.serve.inference.engine import Engine
from counterscan.serve.metrics import Metrics
from counterscan.serve.settings import Settings
from counterscan.serve.storage import Store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def get_engine(request: Request) -> Engine:
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None or not engine.ready:
        raise HTTPException(503, "the model is not loaded yet")
    return engine


def get_store(request: Request) -> Store:
    store: Store | None = getattr(request.app.state, "store", None)
    if store is None:
        raise HTTPException(503, "the database is not open yet")
    return store


# For signatures: `engine: EngineDep` (ruff's B008 forbids calls in argument defaults).
EngineDep = Annotated[Engine, Depends(get_engine)]
StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
