"""ONNX Runtime wrapper: load an exported counterscan model, check it, run it.

Everything the server needs to know about the model comes from the file itself: the graph's
input/output names and shapes, and the contract in `metadata_props` (input size, thresholds,
version). A file that is not a counterscan model is refused with a one-line reason.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnxruntime as ort

from counterscan.contract import (
    INPUT_NAME,
    OUTPUT_CAM,
    OUTPUT_EMBEDDING,
    OUTPUT_PROB,
    ModelContract,
)
from counterscan.errors import CounterscanError
from counterscan.serve.settings import Settings

OUTPUTS = (OUTPUT_PROB, OUTPUT_EMBEDDING, OUTPUT_CAM)


class ScoreOutput(NamedTuple):
    prob: np.ndarray  # (N,) float32, calibrated probability of "counterfeit"
    embedding: np.ndarray  # (N, D) float32, L2-normalised
    cam: np.ndarray  # (N, h, w) float32 in [0, 1]


@dataclass(frozen=True)
class Threads:
    intra_op: int
    inter_op: int = 1
    # Idle ORT threads spin-wait for work by default. In a service the cores are shared with
    # decoding and storage threads, and spinning takes them away (bench/README.md).
    spinning: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Threads:
        intra_op = max(1, settings.intra_op_threads // settings.model_calls)
        return cls(intra_op, settings.inter_op_threads, settings.ort_spinning)


class Scorer:
    """One loaded model. `score` is thread-safe (ONNX Runtime sessions allow concurrent runs)."""

    def __init__(self, path: Path, session: ort.InferenceSession, contract: ModelContract):
        self.path = path
        self.session = session
        self.contract = contract
        self.file_sha256 = _file_sha256(path)
        self.loaded_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    @property
    def input_size(self) -> int:
        return self.contract.input_size

    @property
    def model_version(self) -> str:
        return self.contract.model_version

    @classmethod
    def load(cls, path: Path | str, threads: Threads) -> Scorer:
        """Open and check a model file; raises CounterscanError naming what is wrong."""
        path = Path(path)
        if not path.is_file():
            raise CounterscanError(f"model file {path} does not exist")
        options = ort.SessionOptions()
        # Explicit thread counts: ORT's default (all cores, spinning) fights the decoding
        # threads and other processes on the machine.
        options.intra_op_num_threads = threads.intra_op
        options.inter_op_num_threads = threads.inter_op
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        spin = "1" if threads.spinning else "0"
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        options.add_session_config_entry("session.inter_op.allow_spinning", spin)
        try:
            session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CounterscanError(f"{path} is not a loadable ONNX model: {first}") from None
        try:
            contract = ModelContract.from_metadata(session.get_modelmeta().custom_metadata_map)
        except (ValueError, TypeError) as e:
            raise CounterscanError(f"{path}: {e}") from None
        _check_graph(path, session, contract)
        return cls(path, session, contract)

    def score(self, batch: np.ndarray) -> ScoreOutput:
        """(N, H, W, 3) uint8 -> ScoreOutput, N >= 1."""
        if batch.ndim != 4 or batch.shape[1:] != (self.input_size, self.input_size, 3):
            raise ValueError(
                f"batch must be (N, {self.input_size}, {self.input_size}, 3), got {batch.shape}"
            )
        prob, embedding, cam = self.session.run(
            list(OUTPUTS), {INPUT_NAME: np.ascontiguousarray(batch, dtype=np.uint8)}
        )
        return ScoreOutput(
            prob=np.asarray(prob, dtype=np.float32).reshape(len(batch)),
            embedding=np.asarray(embedding, dtype=np.float32),
            cam=np.asarray(cam, dtype=np.float32),
        )

    def warm_up(self, batch_sizes: tuple[int, ...] = (1, 2)) -> float:
        """Run a few batches so first requests do not pay for allocation and kernel selection.
        Also proves the model runs and returns sane shapes. Returns the seconds it took.
        Batches no larger than the service's (settings.batch_max_size): ONNX Runtime keeps the
        memory of the largest batch it has run (224 px: 110 MB more after a batch of 8)."""
        start = time.perf_counter()
        rng = np.random.default_rng(0)
        for n in batch_sizes:
            x = rng.integers(0, 256, (n, self.input_size, self.input_size, 3), dtype=np.uint8)
            out = self.score(x)
            if out.prob.shape != (n,) or out.embedding.shape[0] != n or out.cam.shape[0] != n:
                raise CounterscanError(f"{self.path}: outputs have the wrong batch size")
            if not np.all(np.isfinite(out.prob)) or np.any((out.prob < 0) | (out.prob > 1)):
                raise CounterscanError(f"{self.path}: scores outside [0, 1] on warm-up")
        return time.perf_counter() - start

    def describe(self) -> dict[str, object]:
        """The `/v1/model` body: the contract plus where and when it was loaded."""
        return {
            **self.contract.to_dict(),
            "loaded_at": self.loaded_at,
            "file_sha256": self.file_sha256,
        }


def _check_graph(path: Path, session: ort.InferenceSession, contract: ModelContract) -> None:
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name for o in session.get_outputs()}
    if INPUT_NAME not in inputs:
        raise CounterscanError(f"{path}: the graph has no input named {INPUT_NAME!r}")
    if inputs[INPUT_NAME].type != "tensor(uint8)":
        raise CounterscanError(f"{path}: input {INPUT_NAME!r} must be uint8")
    shape = inputs[INPUT_NAME].shape
    if len(shape) != 4 or shape[3] != 3 or shape[1:3] != [contract.input_size] * 2:
        raise CounterscanError(
            f"{path}: input shape {shape} does not match the contract's input size "
            f"{contract.input_size} (expected [N, {contract.input_size}, "
            f"{contract.input_size}, 3])"
        )
    missing = [name for name in OUTPUTS if name not in outputs]
    if missing:
        raise CounterscanError(f"{path}: the graph lacks output(s) {', '.join(missing)}")


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
