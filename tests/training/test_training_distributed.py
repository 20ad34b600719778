"""The same training under torchrun with 2 processes (gloo on CPU) gives an equivalent run.

Equivalent: one model written once by rank 0, the same optimizer steps, learning rates and
photos per epoch as the single-process run with the same settings (the global batch is split
across processes, DistributedSampler gives each photo to exactly one of them), and a model of
comparable quality. About 30-60 s on 2 cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from counterscan.cli import main

FLAGS = ["--epochs", "2", "--image-size", "64", "--quiet"]


def _epochs(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.timeout(240)
def test_torchrun_two_processes_equivalent_to_one(tiny_data: Path, tmp_path: Path) -> None:
    ddp_dir, single_dir = tmp_path / "ddp", tmp_path / "single"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--standalone",  # a local rendezvous on a free port: tests may run side by side
        "-m", "counterscan", "train", str(tiny_data), "--out", str(ddp_dir),
        "--json", str(tmp_path / "ddp.json"), *FLAGS,
    ]  # fmt: skip
    # Own session, so a hung run can be killed with its worker processes.
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        # SIGTERM first: torchrun forwards it to its workers (which run in sessions of their
        # own, out of reach of killpg); then make sure nothing of ours is left.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        pytest.fail("torchrun did not finish in 180 s")
    assert proc.returncode == 0, stderr[-3000:]
    assert stdout.count("model card:") == 1  # only rank 0 prints the summary
    summary = json.loads((tmp_path / "ddp.json").read_text())
    assert summary["training"]["world_size"] == 2
    assert (ddp_dir / "model.onnx").is_file() and (ddp_dir / "best.pt").is_file()

    assert main(["train", str(tiny_data), "--out", str(single_dir), *FLAGS]) == 0
    ddp, single = _epochs(ddp_dir), _epochs(single_dir)
    assert [e["epoch"] for e in ddp] == [1, 2]  # one line per epoch: only rank 0 wrote
    for a, b in zip(ddp, single, strict=True):
        assert (a["steps"], a["photos"], a["frozen_blocks"]) == (
            b["steps"], b["photos"], b["frozen_blocks"],
        )  # fmt: skip
        assert a["lr"] == pytest.approx(b["lr"])
    assert ddp[0]["photos"] == 24  # every training photo once per epoch, none twice
    val_auc = summary["metrics"]["val"]["roc_auc"]
    assert val_auc >= 0.75, val_auc
