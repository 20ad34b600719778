"""Run the service under uvicorn: check everything first, so a bad setting, model file or
database ends with a one-line reason instead of a server that starts and dies.

One worker: the app is built here, adopting the model and store already opened by the checks,
and SIGHUP reloads the model in place (`inference/reload.py`). Several workers: uvicorn's supervisor
imports `create_app` in each process, with the settings passed through COUNTERSCAN_* variables;
there SIGHUP makes the supervisor restart the workers, which load the file afresh.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from counterscan.errors import CounterscanError
from counterscan.serve.api.security import check_exposure
from counterscan.serve.malloc import limit_malloc_arenas
from counterscan.serve.settings import Settings, default_threads, load_settings


def serve(
    *,
    model: Path | None = None,
    db: str | None = None,
    data_dir: Path | None = None,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    threads: int | None = None,
    log_level: str | None = None,
) -> int:
    limit_malloc_arenas()  # before the threads start: see malloc.py
    import uvicorn

    from counterscan.serve.app import create_app
    from counterscan.serve.inference.model import Scorer, Threads
    from counterscan.serve.storage import Store

    options = {
        "model": model,
        "db": db,
        "data_dir": data_dir,
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": log_level,
        "intra_op_threads": threads,
        "reload_on_sighup": True,
    }
    settings = load_settings(**options)
    if (
        threads is None
        and settings.workers > 1
        and "COUNTERSCAN_INTRA_OP_THREADS" not in os.environ
    ):
        # Workers share the cores instead of each taking all of them.
        options["intra_op_threads"] = max(1, default_threads() // settings.workers)
        settings = load_settings(**options)
    check_exposure(settings)
    if settings.model is None:
        raise CounterscanError("no model to serve: pass --model FILE or set COUNTERSCAN_MODEL")

    scorer = Scorer.load(settings.model, Threads.from_settings(settings))
    store = Store.from_settings(settings).open()  # creates or migrates the schema
    common = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": log_config(settings.log_level),
        "proxy_headers": False,
        "server_header": False,
    }
    if settings.workers == 1:
        app = create_app(settings, scorer=scorer, store=store)
        uvicorn.run(app, **common)
        return 0

    store.close()
    os.environ.update(_environment(settings))
    uvicorn.run(
        "counterscan.serve.app:create_app",
        factory=True,
        workers=settings.workers,
        # How long a new worker may take to start (load the model, warm up, open the database)
        # before uvicorn's supervisor gives up on a restart and keeps the old worker. uvicorn's
        # 5 s default is less than a worker needs on 2 busy cores: a reload then silently kept
        # the old model. The same bound is how long a stuck worker may not answer a ping.
        timeout_worker_healthcheck=WORKER_START_TIMEOUT_S,
        **common,
    )
    return 0


WORKER_START_TIMEOUT_S = 120


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging set-up plus our `counterscan` logger, applied in every worker."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["counterscan"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def _environment(settings: Settings) -> dict[str, str]:
    """What each worker process needs to rebuild the same settings (API keys are already in
    the environment: they can only come from there)."""
    env = {
        "COUNTERSCAN_MODEL": str(settings.model),
        "COUNTERSCAN_DB": settings.db_url,
        "COUNTERSCAN_DATA_DIR": str(settings.data_dir),
        "COUNTERSCAN_INTRA_OP_THREADS": str(settings.intra_op_threads),
        "COUNTERSCAN_ORT_SPINNING": str(settings.ort_spinning).lower(),
        "COUNTERSCAN_RELOAD_ON_SIGHUP": "false",  # the supervisor restarts workers instead
        "COUNTERSCAN_WORKERS": str(settings.workers),  # POST /v1/admin/reload restarts them all
        "COUNTERSCAN_LOG_LEVEL": settings.log_level,
    }
    return env
