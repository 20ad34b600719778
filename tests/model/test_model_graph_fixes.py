"""The exported graph lets ONNX Runtime fold the stride-2 Pads into their Convs (graph_fixes.py):
no Pad is left in the graph ORT runs, and the outputs are unchanged (export's parity check)."""

from __future__ import annotations

from pathlib import Path

import onnx
import onnxruntime as ort

from counterscan.contract import ModelContract
from counterscan.model.config import ModelConfig
from counterscan.model.export import export_onnx
from counterscan.model.graph_fixes import drop_empty_trailing_inputs


def _ops_after_ort(path: Path, out: Path) -> list[str]:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(out)
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return [node.op_type for node in onnx.load(str(out)).graph.node]


def test_exported_pads_fold_into_convs(small_model, tmp_path: Path) -> None:
    config = ModelConfig(image_size=64)
    path = tmp_path / "m.onnx"
    export_onnx(small_model, config, ModelContract("t", 64), path, temperature=1.0, threads=1)
    exported = onnx.load(str(path))
    pads = [n for n in exported.graph.node if n.op_type == "Pad"]
    assert len(pads) == 5  # the five stride-2 convolutions of EfficientNet-Lite0
    assert all(name for n in pads for name in n.input)
    assert "Pad" not in _ops_after_ort(path, tmp_path / "optimized.onnx")


def test_without_the_fix_ort_keeps_the_pads(small_model, tmp_path: Path) -> None:
    """Guards the reason for the fix: if a future exporter or ORT makes it unnecessary, this
    test says so."""
    config = ModelConfig(image_size=64)
    path = tmp_path / "m.onnx"
    export_onnx(small_model, config, ModelContract("t", 64), path, temperature=1.0, threads=1)
    model = onnx.load(str(path))
    for node in model.graph.node:
        if node.op_type == "Pad":
            node.input.append("")  # what the exporter writes
    broken = tmp_path / "broken.onnx"
    onnx.save(model, str(broken))
    assert _ops_after_ort(broken, tmp_path / "opt-broken.onnx").count("Pad") == 5
    assert drop_empty_trailing_inputs(model) == 5
