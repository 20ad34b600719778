"""scripts/occlusion_check.py: held-out photos scored with parts painted over, through the real
model of a training run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "occlusion_check.py"
sys.path.insert(0, str(SCRIPT.parent))
import occlusion_check as oc  # noqa: E402


def test_the_masks_cover_what_they_say() -> None:
    mid = oc.middle(0.5)(8)
    assert mid.sum() == 16 and mid[2:6, 2:6].all()
    assert (oc.border(0.5)(8) == ~mid).all()
    corners = oc.all_but_corners(0.25)(8)
    kept = np.argwhere(~corners)
    assert len(kept) == 16
    assert {(r // 4, c // 4) for r, c in kept} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert not (~corners)[2:6, :].any() and not (~corners)[:, 2:6].any()


def test_painted_pixels_take_each_photos_mean_colour() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    mask = oc.middle(0.5)(8)
    out = oc.painted(images, mask)
    for image, shown in zip(images, out, strict=True):
        mean = image.reshape(-1, 3).mean(axis=0).round()
        assert (shown[mask] == mean).all()
        assert (shown[~mask] == image[~mask]).all()
    assert (images != out).any()  # a copy was painted, not the input


def test_a_run_is_checked_on_its_held_out_photos(onnx_model_path: Path, tmp_path: Path) -> None:
    run = onnx_model_path.parent  # the tiny training run of tests/conftest.py
    data = run.parent / "data"
    out = tmp_path / "occlusion.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(run), str(data), "--split", "val", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    held_out = [line for line in (run / "split.csv").read_text().splitlines() if ",val," in line]
    assert report["photos"] == len(held_out) > 0
    for name in oc.VARIANTS:
        assert name in proc.stdout
        auc = report[name]["roc_auc"]
        assert auc is None or 0.0 <= auc <= 1.0


def test_a_folder_that_is_no_run_is_a_one_line_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "training run folder" in proc.stderr
    assert "Traceback" not in proc.stderr
