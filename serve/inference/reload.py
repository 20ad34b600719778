"""Hot reload: swap the model without dropping a request.

The new file is loaded, checked and warmed up in a worker thread while the old model keeps
serving; only then is it swapped in. A broken file is refused with the reason and the old model
stays. Triggered by `POST /v1/admin/reload` or, under `counterscan serve`, by SIGHUP (which
re-reads the file being served, e.g. after a deploy replaced it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI

from counterscan.errors import CounterscanError
from counterscan.serve.inference.model import Scorer, Threads
from counterscan.serve.inference.served import ServedModel
from counterscan.serve.metrics import Metrics

log = logging.getLogger("counterscan.serve")


def load_warm(path: Path, threads: Threads) -> Scorer:
    scorer = Scorer.load(path, threads)
    scorer.warm_up()
    return scorer


async def reload_model(app: FastAPI, path: str | Path | None = None) -> Scorer:
    """Load `path` (default: the file being served), warm it up, then serve it.

    Raises CounterscanError (HTTP 422) when the file is refused; the old model keeps serving.
    Reloads run one at a time.
    """
    model: ServedModel = app.state.model
    metrics: Metrics = app.state.metrics
    target = Path(path) if path else model.scorer.path
    async with app.state.reload_lock:
        scorer = await _load_or_refuse(app, target, f"still serving {model.contract.model_version}")
        old = model.swap(scorer)
    metrics.reloads.labels("ok").inc()
    log.info(
        "model reloaded: %s -> %s (%s)",
        old.contract.model_version,
        scorer.contract.model_version,
        scorer.path,
    )
    return scorer


async def _load_or_refuse(app: FastAPI, path: Path, what_stays: str) -> Scorer:
    """load_warm in a worker thread; a refused file is counted, logged with `what_stays`, and
    raised as CounterscanError (HTTP 422) saying the old model keeps serving."""
    model: ServedModel = app.state.model
    try:
        return await anyio.to_thread.run_sync(load_warm, path, model.threads)
    except CounterscanError as e:
        app.state.metrics.reloads.labels("refused").inc()
        log.warning("model reload refused, %s: %s", what_stays, e)
        raise CounterscanError(f"model not reloaded, the old one keeps serving: {e}") from None


class OnlyTheServedFile(CounterscanError):
    """Several workers cannot switch to another file: each loads COUNTERSCAN_MODEL afresh."""


async def restart_workers(app: FastAPI, path: str | Path | None = None) -> Scorer:
    """Reload under `counterscan serve --workers N`: a swap here would reach only the worker
    that answered. So the served file is loaded and warmed up here first (a broken file is
    refused with CounterscanError and nothing restarts), then uvicorn's supervisor gets SIGHUP
    and replaces the workers one at a time, each loading the file afresh and taking requests
    only once it is ready. Returns the checked model, the one every worker will serve."""
    model: ServedModel = app.state.model
    workers = app.state.settings.workers
    served = model.scorer.path
    if path and Path(path).resolve() != served.resolve():
        raise OnlyTheServedFile(
            f"this server runs {workers} worker processes, which can only "
            f"reload the served file {served}: copy the new model over it, then reload"
        )
    async with app.state.reload_lock:
        scorer = await _load_or_refuse(app, served, "workers not restarted")
    supervisor = os.getppid()
    log.info(
        "model %s checked: restarting the %d workers (SIGHUP to supervisor %d)",
        scorer.contract.model_version,
        workers,
        supervisor,
    )
    os.kill(supervisor, signal.SIGHUP)
    return scorer


def install_sighup(app: FastAPI) -> bool:
    """Reload on SIGHUP (Unix, main thread only). Returns whether the handler was installed."""
    loop = asyncio.get_running_loop()

    async def on_sighup() -> None:
        try:
            await reload_model(app)
        except CounterscanError:
            pass  # already logged; the old model keeps serving
        except Exception:  # never let a signal kill the server
            log.exception("model reload on SIGHUP failed")

    def handler() -> None:
        log.info("SIGHUP: reloading the model")
        app.state.sighup_task = loop.create_task(on_sighup())

    try:
        loop.add_signal_handler(signal.SIGHUP, handler)
    except (NotImplementedError, RuntimeError, ValueError, AttributeError):
        return False
    return True


def remove_sighup() -> None:
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
