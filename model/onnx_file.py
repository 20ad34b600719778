"""Writing an ONNX file: atomically (a reader never sees half a model) and with the contract in
its metadata. Shared by the float export and the int8 quantization.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from counterscan.contract import ModelContract


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def set_metadata(onnx_model: Any, contract: ModelContract) -> None:
    """Replace the graph's metadata_props with the contract (keys `counterscan.*`)."""
    del onnx_model.metadata_props[:]
    for key, value in sorted(contract.to_metadata().items()):
        entry = onnx_model.metadata_props.add()
        entry.key, entry.value = key, value
