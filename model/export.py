"""PyTorch -> ONNX: the one artifact that crosses from training to serving.

The exported graph (names from counterscan.contract):

    images            (N, H, W, 3) uint8 RGB, dynamic N, H = W = config.image_size
    prob_counterfeit  (N,)         sigmoid(logit / temperature): the calibrated probability
    embedding         (N, 1280)    L2-normalised global-average-pooled features
    cam               (N, h, w)    h = w = H / 32: relu(raw CAM) / (its per-image max + 1e-6)

Normalisation ((pixel / 255 - mean) / std, NHWC -> NCHW) is the first step of the graph, so
clients send raw pixels. The raw CAM is the head applied to every cell of the last feature map,
bias included (network.py); after the relu a cell is non-zero only where the local evidence
points to "counterfeit", so an image with no such evidence gets an all-zero map rather than a
stretched picture of noise.

Exporter: the TorchScript-based `torch.onnx.export(..., dynamo=False)`, opset 17. It still works
in torch 2.14, needs no extra package (the dynamo exporter needs onnxscript) and gives a plain
static graph that ONNX Runtime's quantizer handles well. Every export is checked: the ONNX checker,
then ONNX Runtime against PyTorch on two batches of different random images.
"""

from __future__ import annotations

import copy
import io
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from counterscan.contract import (
    INPUT_NAME,
    ModelContract,
)
from counterscan.errors import CounterscanError
from counterscan.model.config import ModelConfig
from counterscan.model.graph_fixes import drop_empty_trailing_inputs
from counterscan.model.network import CounterfeitNet
from counterscan.model.onnx_file import set_metadata, write_atomic
from counterscan.model.parity import (
    OUTPUT_NAMES,
    PARITY_BATCHES,
    TOLERANCES,
    check_parity,
    make_session,
    parity_images,
)
from counterscan.model.preprocess import NormalizeUint8

OPSET = 17
EXPORTER = "torchscript (torch.onnx.export dynamo=False)"
CAM_EPS = 1e-6


@dataclass
class ExportReport:
    path: str
    exporter: str
    opset: int
    parity: dict[str, float]  # output name -> max abs diff over all tested batches
    batch_sizes: list[int]
    size_bytes: int
    seconds: float  # export + checks
    tolerances: dict[str, float] = field(default_factory=lambda: dict(TOLERANCES))


class ServingGraph(nn.Module):
    """uint8 images -> (probability, embedding, normalised CAM): what the ONNX file computes."""

    def __init__(self, model: CounterfeitNet, config: ModelConfig, temperature: float) -> None:
        super().__init__()
        self.normalize = NormalizeUint8(config)
        self.model = model
        self.register_buffer("inv_temperature", torch.tensor(1.0 / temperature))

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        out = self.model(self.normalize(images))
        prob = torch.sigmoid(out.logit * self.inv_temperature)  # (N,)
        cam = F.relu(out.cam)  # (N, h, w)
        cam = cam / (cam.amax(dim=(1, 2), keepdim=True) + CAM_EPS)
        return prob, out.embedding, cam


def _to_onnx_bytes(graph: ServingGraph, image_size: int) -> bytes:
    dummy = torch.from_numpy(parity_images(2, image_size, seed=0))
    buffer = io.BytesIO()
    dynamic = {name: {0: "batch"} for name in (INPUT_NAME, *OUTPUT_NAMES)}
    with warnings.catch_warnings():
        # The padding of stride-2 layers exports as a small constant subgraph that the
        # exporter cannot fold and warns about; ONNX Runtime folds it when loading.
        warnings.filterwarnings("ignore", message="Constant folding", category=UserWarning)
        # We choose the TorchScript exporter on purpose (module docstring); torch warns about it.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        torch.onnx.export(
            graph,
            (dummy,),
            buffer,
            input_names=[INPUT_NAME],
            output_names=list(OUTPUT_NAMES),
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    return buffer.getvalue()


def export_onnx(
    model: CounterfeitNet,
    config: ModelConfig,
    contract: ModelContract,
    out_path: str | Path,
    *,
    temperature: float,
    threads: int = 2,
) -> ExportReport:
    """Export `model` with its contract; check it; write `out_path` only if every check passes."""
    import onnx

    if not temperature > 0:
        raise CounterscanError(f"temperature must be positive, got {temperature}")
    start = time.perf_counter()
    out_path = Path(out_path)
    # Export a CPU eval copy so the caller's model (maybe on a GPU, maybe training) is untouched.
    graph = ServingGraph(copy.deepcopy(model).cpu().eval(), config, temperature).eval()
    contract = _complete_contract(contract, config, temperature)
    onnx_model = onnx.load_from_string(_to_onnx_bytes(graph, config.image_size))
    drop_empty_trailing_inputs(onnx_model)  # lets ONNX Runtime fold the Pads into the Convs
    set_metadata(onnx_model, contract)
    onnx.checker.check_model(onnx_model, full_check=True)
    data = onnx_model.SerializeToString()
    parity = check_parity(graph, make_session(data, threads), config.image_size)
    write_atomic(out_path, data)
    return ExportReport(
        path=str(out_path),
        exporter=EXPORTER,
        opset=OPSET,
        parity=parity,
        batch_sizes=list(PARITY_BATCHES),
        size_bytes=len(data),
        seconds=round(time.perf_counter() - start, 3),
    )


def _complete_contract(
    contract: ModelContract, config: ModelConfig, temperature: float
) -> ModelContract:
    """Fill what the network itself determines, and refuse a contract that contradicts it."""
    from dataclasses import replace

    if contract.input_size != config.image_size:
        raise CounterscanError(
            f"contract input_size {contract.input_size} != model image_size {config.image_size}"
        )
    return replace(
        contract,
        backbone=config.backbone,
        temperature=float(temperature),
        embedding_dim=config.num_features,
        cam_size=config.feature_size,
    )


# ---------------------------------------------------------------- from a checkpoint

# Checkpoint meta keys that map onto contract fields; every other key goes to contract.extra.
_CONTRACT_META_KEYS = ("model_version", "temperature", "thresholds", "manifest_sha256", "metrics")


def contract_from_checkpoint(
    checkpoint_path: Path, config: ModelConfig, meta: dict[str, Any]
) -> ModelContract:
    """The ModelContract for a checkpoint, from the meta its trainer stored."""
    from datetime import UTC, datetime

    from counterscan.contract import Thresholds

    thresholds = meta.get("thresholds") or {}
    created_at = meta.get("created_at") or datetime.now(UTC).isoformat(timespec="seconds")
    try:
        return ModelContract(
            model_version=str(meta.get("model_version") or checkpoint_path.stem),
            input_size=config.image_size,
            backbone=config.backbone,
            temperature=float(meta.get("temperature", 1.0)),
            thresholds=Thresholds(
                **{k: float(thresholds[k]) for k in ("high", "low") if k in thresholds}
            ),
            manifest_sha256=str(meta.get("manifest_sha256", "")),
            metrics=dict(meta.get("metrics") or {}),
            created_at=str(created_at),
            extra={k: v for k, v in meta.items() if k not in (*_CONTRACT_META_KEYS, "created_at")},
        )
    except (TypeError, ValueError) as e:
        raise CounterscanError(
            f"{checkpoint_path}: checkpoint meta does not make a contract: {e}"
        ) from None


def export_from_checkpoint(
    checkpoint_path: str | Path,
    out_path: str | Path,
    *,
    int8: bool = False,
    calibration: Path | None = None,
    threads: int = 2,
    speed_repeats: int = 10,
) -> dict[str, Any]:
    """Checkpoint -> checked ONNX file at `out_path` (int8 when asked). Returns a JSON-able
    report: the fp32 export (exporter, parity, size, time), the contract, and for int8 the
    quantization report (speed-up, AUC change on the calibration dataset's labelled photos)."""
    import tempfile
    from dataclasses import asdict

    from counterscan.model.checkpoint import load_checkpoint

    if int8 and calibration is None:
        raise CounterscanError("--int8 needs --calibration DATA (a dataset folder of photos)")
    if threads < 1:
        raise CounterscanError(f"threads must be at least 1, got {threads}")
    checkpoint_path, out_path = Path(checkpoint_path), Path(out_path)
    ckpt = load_checkpoint(checkpoint_path)
    contract = contract_from_checkpoint(checkpoint_path, ckpt.config, ckpt.meta)
    report: dict[str, Any] = {"checkpoint": str(checkpoint_path), "path": str(out_path)}
    if not int8:
        fp32 = export_onnx(
            ckpt.model,
            ckpt.config,
            contract,
            out_path,
            temperature=contract.temperature,
            threads=threads,
        )
        report["fp32"] = asdict(fp32)
    else:
        from counterscan.model.calibration import load_calibration_set
        from counterscan.model.quantize import quantize_int8

        photos = load_calibration_set(calibration, ckpt.config.image_size)
        with tempfile.TemporaryDirectory() as tmp:
            fp32_path = Path(tmp) / "fp32.onnx"
            fp32 = export_onnx(
                ckpt.model,
                ckpt.config,
                contract,
                fp32_path,
                temperature=contract.temperature,
                threads=threads,
            )
            report["fp32"] = asdict(fp32)
            report["fp32"]["path"] = None  # a temporary file, gone after this
            report["int8"] = quantize_int8(
                fp32_path,
                out_path,
                photos.calibration,
                threads=threads,
                val_images=photos.images,
                val_labels=photos.labels,
                speed_repeats=speed_repeats,
            )
        report["int8"]["calibration_source"] = photos.source
        report["int8"]["skipped_photos"] = photos.skipped
    report["contract"] = contract_from_metadata_of(out_path)
    return report


def contract_from_metadata_of(path: Path) -> dict[str, Any]:
    """Read the contract back from the written file (what a server will see)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return ModelContract.from_metadata({p.key: p.value for p in model.metadata_props}).to_dict()
