"""The model contract: what an ONNX file promises to whoever serves it.

Written into the ONNX `metadata_props` at export (string key -> string value, JSON for anything
structured) and read back by the server and by `counterscan evaluate`. This module is the single
place that knows the keys; it imports neither torch nor onnx.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from counterscan.dataset_format import LABELS

CONTRACT_VERSION = "1"

# Names of the graph's input and outputs. Clients and the server use these names.
INPUT_NAME = "images"  # (N, H, W, 3) uint8 RGB
OUTPUT_PROB = "prob_counterfeit"  # (N,) float32, calibrated probability
OUTPUT_EMBEDDING = "embedding"  # (N, D) float32, L2-normalised
OUTPUT_CAM = "cam"  # (N, h, w) float32 in [0, 1], coarse class-activation map

LABEL_NAMES = LABELS  # index 1 is the positive class

# The priority bands, highest first (the inspection queue's order); `Thresholds.priority` names
# them, and the service's API, store and queue use these names.
BANDS = ("high", "medium", "low")
HIGH, MEDIUM, LOW = BANDS


@dataclass(frozen=True)
class Thresholds:
    """Score cut-offs of the priority bands, chosen on validation data.

    high:  score >= high (precision there was at least the target, 0.9 by default)
    low:   score <  low  (below it the model keeps less than 5% of the counterfeits)
    medium: between.
    """

    high: float = 0.5
    low: float = 0.1

    def priority(self, score: float) -> str:
        if score >= self.high:
            return HIGH
        if score < self.low:
            return LOW
        return MEDIUM


@dataclass(frozen=True)
class ModelContract:
    model_version: str
    input_size: int
    backbone: str = "efficientnet_lite0"
    label_names: tuple[str, ...] = LABEL_NAMES
    temperature: float = 1.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    manifest_sha256: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    embedding_dim: int = 0
    cam_size: int = 0
    contract_version: str = CONTRACT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # training summary, data counts, ...

    def to_metadata(self) -> dict[str, str]:
        """Flatten into ONNX metadata_props (all values are strings)."""
        out: dict[str, str] = {}
        for key, value in asdict(self).items():
            out[f"counterscan.{key}"] = value if isinstance(value, str) else json.dumps(value)
        return out

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> ModelContract:
        """Inverse of `to_metadata`. Raises ValueError naming what is missing or wrong."""
        raw = {
            k.removeprefix("counterscan."): v
            for k, v in meta.items()
            if k.startswith("counterscan.")
        }
        if "contract_version" not in raw:
            raise ValueError("the ONNX file has no counterscan contract in its metadata")
        if raw["contract_version"] != CONTRACT_VERSION:
            raise ValueError(
                f"contract version {raw['contract_version']} is not supported "
                f"(this server reads version {CONTRACT_VERSION})"
            )
        str_fields = {
            "model_version",
            "backbone",
            "manifest_sha256",
            "created_at",
            "contract_version",
        }
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            if name not in raw:
                continue
            try:
                values[name] = raw[name] if name in str_fields else json.loads(raw[name])
            except json.JSONDecodeError as e:
                raise ValueError(f"contract field {name} is not valid JSON: {e}") from None
        for required in ("model_version", "input_size"):
            if required not in values:
                raise ValueError(f"contract field {required} is missing")
        values["label_names"] = tuple(values.get("label_names", LABEL_NAMES))
        values["thresholds"] = Thresholds(**values.get("thresholds", {}))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view (the `/v1/model` response body)."""
        return asdict(self)
