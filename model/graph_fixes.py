"""Small rewrites of the exported ONNX graph that let ONNX Runtime optimise it fully.

The TorchScript exporter writes `F.pad` (the TensorFlow "SAME" padding of the five stride-2
convolutions, network.py) as a Pad node with an empty third input (no constant_value). ONNX
Runtime's PadFusion, which folds a zero Pad into the following Conv's `pads`, gives up on a Pad
whose third input is not a constant, and an empty name is not one. Dropping the empty trailing
input means the same (constant_value defaults to 0) and lets the fusion happen: measured at 224 px,
2 threads, per call: fp32 batch 1 7.1 -> 5.6 ms; int8 batch 1 4.6 -> 3.7 ms, batch 8 55 -> 36 ms
(in the int8 graph every unfused Pad ran in float between a DequantizeLinear and a
QuantizeLinear).
"""

from __future__ import annotations

from typing import Any


def drop_empty_trailing_inputs(model: Any, op_types: tuple[str, ...] = ("Pad",)) -> int:
    """Remove empty (omitted optional) inputs at the end of nodes of `op_types`, in place.
    Returns the number of nodes changed."""
    changed = 0
    for node in model.graph.node:
        if node.op_type in op_types and node.input and node.input[-1] == "":
            while node.input and node.input[-1] == "":
                node.input.pop()
            changed += 1
    return changed
