"""`counterscan score --ray ADDRESS`: the offline scoring's batches as Ray Data `map_batches`
over a Ray cluster, with the local path's own per-file and per-batch code (`score_rows.py`), so
rows, scores and errors are the same.

- The model travels in Ray's object store (its bytes, put once by the driver); each actor
  writes it to a temporary file, checks its SHA-256 against the driver's, and builds its ONNX
  Runtime session once, with explicit thread counts (ORT sizes its pools by the machine's cores
  and ignores cgroup limits and Ray's CPU reservations).
- Images are read by the actors from their paths: every node must see the input files at the
  same absolute paths (one machine, or a shared filesystem mounted alike on every node).
- Every node needs this package installed with `[serve,ray]` (the actors import it), the same
  version of Ray and Python as the driver.

Ray is an optional extra: it is imported here only, and a missing one is a one-line error.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from counterscan.errors import CounterscanError
from counterscan.serve.inference.model import Scorer, Threads
from counterscan.serve.offline.score_rows import LIMITS, Row, prepare_file, score_prepared

ACTORS_START_TIMEOUT_S = 300
CONNECT_TIMEOUT_S = 10
MISSING_RAY = "--ray needs the optional extra `ray`: pip install 'counterscan[ray]'"


def ray_rows(
    scorer: Scorer,
    files: list[Path],
    address: str,
    *,
    batch_size: int,
    threads: int,
    actors: int | None,
    stats: dict[str, Any],
) -> Iterator[list[Row]]:
    """The rows of each batch in file order, scored by a pool of actors on the cluster at
    `address`. Connects at once (a bad address fails before any output); `stats` is filled
    with the actors and, per node, its images, batches and busy seconds (the summary's `ray`
    part)."""
    ray = _import_ray()
    _check_reachable(address)
    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    except Exception as e:  # ConnectionError, a version mismatch, a bad address: one line each
        raise CounterscanError(
            f"cannot connect to the Ray cluster at {address}: {_first(e)}"
        ) from None
    try:
        actors = _fit_actors(ray, address, threads, actors)
    except CounterscanError:
        ray.shutdown()
        raise
    return _run(ray, scorer, files, address, batch_size, threads, actors, stats)


def _fit_actors(ray: Any, address: str, threads: int, actors: int | None) -> int:
    """`actors` (default: as many as fit), checked against the nodes' CPUs: an actor of
    `threads` threads runs on one node."""
    node_cpus = [int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n["Alive"]]
    slots = sum(c // threads for c in node_cpus)
    if actors is None:
        actors = slots
    if not 0 < actors <= slots:
        raise CounterscanError(
            f"{actors or 'actors'} of {threads} thread(s) each do not fit on the Ray cluster at "
            f"{address}: its nodes have {', '.join(map(str, node_cpus)) or 'no'} CPUs"
        )
    return actors


def _run(
    ray: Any,
    scorer: Scorer,
    files: list[Path],
    address: str,
    batch_size: int,
    threads: int,
    actors: int,
    stats: dict[str, Any],
) -> Iterator[list[Row]]:
    try:
        yield from _score(ray, scorer, files, address, batch_size, threads, actors, stats)
    finally:
        ray.shutdown()


def _score(
    ray: Any,
    scorer: Scorer,
    files: list[Path],
    address: str,
    batch_size: int,
    threads: int,
    actors: int,
    stats: dict[str, Any],
) -> Iterator[list[Row]]:
    start = time.perf_counter()
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the command's own bar counts the rows
    # Every actor up (its model loaded) before the first batch, or a clear error: otherwise
    # the first actor takes all of a small job, and too few CPUs would wait for ever.
    context.wait_for_min_actors_s = ACTORS_START_TIMEOUT_S
    dataset = ray.data.from_arrow(_blocks(files, batch_size))
    model_ref = ray.put(scorer.path.read_bytes())
    scored = dataset.map_batches(
        ScoreFiles,
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=threads,
        fn_constructor_kwargs={
            "model": [model_ref],  # in a list: Ray passes the reference, the actor fetches it
            "sha256": scorer.file_sha256,
            "threads": threads,
        },
    )
    nodes: dict[str, dict[str, Any]] = {}
    stats.update(address=address, actors=actors, threads=threads)
    stats["nodes"] = nodes
    pending: dict[int, Row] = {}
    following = 0  # index of the next file to hand out
    try:
        for batch in scored.iter_batches(batch_size=None, batch_format="numpy"):
            # actors started, models loaded, one batch scored: the job's fixed cost
            if "first_batch_seconds" not in stats:
                stats["first_batch_seconds"] = round(time.perf_counter() - start, 3)
                stats["first_batch_images"] = len(batch["index"])
            _count(nodes, batch)
            for index, row in zip(batch["index"], batch["row"], strict=True):
                pending[int(index)] = json.loads(row)
            rows = []
            while following in pending:  # blocks may finish out of order
                rows.append(pending.pop(following))
                following += 1
            yield rows
    except ray.exceptions.RayError as e:
        raise CounterscanError(f"the Ray job failed: {_first(e)}") from None
    stats["seconds"] = round(time.perf_counter() - start, 3)
    for node in nodes.values():
        for kind in ("busy", "cpu"):
            seconds = node[f"{kind}_seconds"]
            node[f"{kind}_seconds"] = round(seconds, 3)
            node[f"images_per_{kind}_second"] = (
                round(node["images"] / seconds, 2) if seconds else None
            )


def _blocks(files: list[Path], batch_size: int) -> list[Any]:
    """One Arrow table per batch (so each `map_batches` call scores one batch): the file's
    index, its path as given (for the row) and as an absolute path (for the actor, whose
    working directory is another)."""
    import pyarrow as pa

    return [
        pa.table(
            {
                "index": range(start, start + len(chunk)),
                "path": [str(p) for p in chunk],
                "file": [str(p.absolute()) for p in chunk],
            }
        )
        for start in range(0, len(files), batch_size)
        for chunk in [files[start : start + batch_size]]
    ]


class ScoreFiles:
    """The actor: one ORT session, built once; scores a batch of paths per call."""

    def __init__(self, model: list[Any], sha256: str, threads: int) -> None:
        import ray

        data = ray.get(model[0])
        fd, name = tempfile.mkstemp(suffix=".onnx", prefix="counterscan-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            self.scorer = Scorer.load(name, Threads(intra_op=threads))
        finally:
            os.unlink(name)  # ORT has read it; the session lives in memory
        if self.scorer.file_sha256 != sha256:
            raise CounterscanError("the model bytes that reached the worker differ from the file")
        self.scorer.warm_up((1,))  # first-call costs stay out of the busy seconds
        self.decode = ThreadPoolExecutor(threads, thread_name_prefix="decode")
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        start, cpu = time.perf_counter(), time.process_time()
        size = self.scorer.input_size
        prepared = list(
            self.decode.map(lambda f: prepare_file(Path(f), size, LIMITS), batch["file"])
        )
        rows = score_prepared(self.scorer, [Path(p) for p in batch["path"]], prepared)
        rest = [0.0] * (len(rows) - 1)
        return {
            "index": batch["index"],
            "row": np.array([json.dumps(r) for r in rows], dtype=object),
            "node": np.array([self.node] * len(rows), dtype=object),
            # the batch's wall and CPU seconds on its first row only: a sum over rows counts
            # them once. CPU time per image does not depend on what else runs on the machine.
            "seconds": np.array([time.perf_counter() - start, *rest]),
            "cpu_seconds": np.array([time.process_time() - cpu, *rest]),
        }


def _count(nodes: dict[str, dict[str, Any]], batch: dict[str, np.ndarray]) -> None:
    for node, seconds, cpu in zip(
        batch["node"], batch["seconds"], batch["cpu_seconds"], strict=True
    ):
        entry = nodes.setdefault(
            str(node), {"images": 0, "batches": 0, "busy_seconds": 0.0, "cpu_seconds": 0.0}
        )
        entry["images"] += 1
        if seconds:
            entry["batches"] += 1
            entry["busy_seconds"] += float(seconds)
            entry["cpu_seconds"] += float(cpu)


def _check_reachable(address: str) -> None:
    """Fail fast on HOST:PORT that nobody listens on (`ray.init` would retry for minutes)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto" and other forms: left to Ray
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise CounterscanError(
            f"cannot connect to the Ray cluster at {address}: {e.strerror or e}"
        ) from None


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise CounterscanError(MISSING_RAY) from None
    # Ray Data's start and end notes and the note that its bars are off (ours counts the rows).
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
    return ray


def _first(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
