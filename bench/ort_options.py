"""ONNX Runtime session options against each other, for `bench_model.py --sweep`.

The service's sessions (serve/inference/model.py) use ORT_ENABLE_ALL, sequential execution, N intra-op
threads and no spin-waiting. Each variant here changes one of those; fp32 and int8 at batch 1
and 8, all variants taking turns so the machine's other work slows them alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def session(
    path: Path, threads: int, *, level: str = "all", parallel: bool = False, spinning: bool = False
) -> Any:
    import onnxruntime as ort

    levels = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 2 if parallel else 1
    options.execution_mode = (
        ort.ExecutionMode.ORT_PARALLEL if parallel else ort.ExecutionMode.ORT_SEQUENTIAL
    )
    options.graph_optimization_level = levels[level]
    spin = "1" if spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spin)
    options.add_session_config_entry("session.inter_op.allow_spinning", spin)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def variants(threads: int) -> dict[str, dict[str, Any]]:
    return {
        "service (all, seq, no spin)": {"threads": threads},
        "spinning on": {"threads": threads, "spinning": True},
        "1 thread": {"threads": 1},
        "level extended": {"threads": threads, "level": "extended"},
        "level basic": {"threads": threads, "level": "basic"},
        "parallel execution": {"threads": threads, "parallel": True},
    }


def sweep(fp32: Path, int8: Path, size: int, threads: int, seconds: float) -> list[dict]:
    """One row per variant: images/s of fp32 and int8 at batch 1 and 8."""
    from bench_model import time_in_turns

    from counterscan.contract import INPUT_NAME
    from counterscan.model.parity import parity_images

    engines = {}
    for name, opts in variants(threads).items():
        for kind, path in (("fp32", fp32), ("int8", int8)):
            s = session(path, **opts)
            engines[(name, kind)] = lambda x, s=s: s.run(None, {INPUT_NAME: x})
    rows: dict[str, dict[str, Any]] = {name: {"options": name} for name in variants(threads)}
    for batch in (1, 8):
        images: np.ndarray = parity_images(batch, size, seed=batch)
        times = time_in_turns(engines, images, seconds)
        for (name, kind), t in times.items():
            rows[name][f"{kind}_b{batch}"] = round(
                batch * 1000 * len(t["wall"]) / sum(t["wall"]), 1
            )
    return list(rows.values())
