"""`counterscan evaluate` on the tiny run's ONNX file: every field, plots, no torch, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from counterscan.cli import main
from counterscan.errors import CounterscanError
from counterscan.training.evaluate import evaluate_model

REPORT_KEYS = {
    "n",
    "roc_auc",
    "average_precision",
    "accuracy",
    "ece",
    "precision_at_10",
    "precision_at_50",
    "recall_at_precision_0.9",
    "bands",
    "confusion",
    "thresholds",
    "model_version",
    "skipped",
}


def test_evaluate_matches_training_and_writes_plots(
    tiny_run: dict[str, Any], tiny_data: Path, tmp_path: Path
) -> None:
    onnx_path = tiny_run["dir"] / "model.onnx"
    report = evaluate_model(onnx_path, tiny_data, split="val", plots_dir=tmp_path, progress=False)
    assert set(report) >= REPORT_KEYS
    assert report["n"] == 12 and report["split"] == "val"
    assert sum(b["n"] for b in report["bands"].values()) == 12
    c = report["confusion"]
    assert c["tp"] + c["fp"] + c["tn"] + c["fn"] == 12
    # The ONNX file on the served preprocessing reproduces what training measured in PyTorch.
    trained = tiny_run["summary"]["metrics"]["val"]
    assert report["roc_auc"] == pytest.approx(trained["roc_auc"])
    assert report["ece"] == pytest.approx(trained["ece"], abs=1e-4)
    assert report["bands"] == trained["bands"]
    # and the same group-bootstrap interval (same default seed, the split's 6 groups)
    assert report["ci95"]["groups"] == trained["ci95"]["groups"] == 6
    for name in ("roc_auc", "average_precision", "accuracy"):
        assert report["ci95"][name] == pytest.approx(trained["ci95"][name], abs=1e-6), name
    for name in ("pr_curve", "reliability", "top_scored"):
        png = Path(report["plots"][name])
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    json.dumps(report)


def test_default_split_is_test_and_bad_photos_are_skipped(
    tiny_run: dict[str, Any], tiny_data: Path, tmp_path: Path
) -> None:
    onnx_path = tiny_run["dir"] / "model.onnx"
    assert evaluate_model(onnx_path, tiny_data, progress=False)["n"] == 4  # the test split
    data = tmp_path / "data"
    for sub in ("genuine", "counterfeit"):
        shutil.copytree(tiny_data / sub, data / sub)
    rows = (tiny_data / "manifest.csv").read_text().splitlines()
    (data / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (data / "manifest.csv").write_text("\n".join([*rows, "broken.jpg,genuine,g-x,test"]) + "\n")
    report = evaluate_model(onnx_path, data, progress=False)
    assert report["n"] == 4 and [s["path"] for s in report["skipped"]] == ["broken.jpg"]
    with pytest.raises(CounterscanError, match="no photos in split 'train'"):
        evaluate_model(onnx_path, _only_test(tmp_path, tiny_data), split="train", progress=False)


def _only_test(tmp_path: Path, tiny_data: Path) -> Path:
    data = tmp_path / "only-test"
    for sub in ("genuine", "counterfeit"):
        shutil.copytree(tiny_data / sub, data / sub)
    rows = (tiny_data / "manifest.csv").read_text().splitlines()
    (data / "manifest.csv").write_text(
        "\n".join([rows[0], *(r for r in rows[1:] if r.endswith(",test"))]) + "\n"
    )
    return data


def test_evaluate_does_not_import_torch(tiny_run: dict[str, Any], tiny_data: Path) -> None:
    code = (
        "import sys\n"
        "from counterscan.training.evaluate import evaluate_model\n"
        f"evaluate_model({str(tiny_run['dir'] / 'model.onnx')!r}, {str(tiny_data)!r}, "
        "split='all', progress=False)\n"
        "assert 'torch' not in sys.modules, 'evaluate imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_evaluate_cli(
    tiny_run: dict[str, Any], tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "report.json"
    onnx_path = str(tiny_run["dir"] / "model.onnx")
    args = ["evaluate", onnx_path, str(tiny_data), "--split", "all", "--json", str(out)]
    assert main([*args, "--quiet", "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["n"] == 40 and set(report) >= REPORT_KEYS
    # 95% intervals by group: the 40 photos are 20 groups of 2 (tiny_data's `group` column)
    ci = report["ci95"]
    assert (ci["resamples"], ci["groups"], ci["unit"], ci["seed"]) == (1000, 20, "group", 0)
    for name in ("roc_auc", "average_precision", "accuracy"):
        assert ci[name][0] <= report[name] <= ci[name][1], name
    lo, hi = ci["roc_auc"]
    line = next(x for x in printed.splitlines() if "ROC-AUC" in x)
    assert f"(95% CI {lo:.3f}-{hi:.3f}, 1000 group resamples of 20 groups)" in line
    assert main([*args, "--quiet", "--bootstrap", "50", "--seed", "3"]) == 0
    assert "50 group resamples of 20 groups" in capsys.readouterr().out
    assert json.loads(out.read_text())["ci95"]["seed"] == 3
    assert main([*args, "--quiet", "--bootstrap", "0"]) == 0
    assert "CI" not in capsys.readouterr().out and "ci95" not in json.loads(out.read_text())
    assert main([*args, "--quiet", "--bootstrap", "-5"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--bootstrap must be 0 (off) or a number of resamples, got -5" in err
    assert len(err.splitlines()) == 1
    assert main(["evaluate", str(tmp_path / "missing.onnx"), str(tiny_data)]) == 2
    assert "does not exist" in capsys.readouterr().err
    not_onnx = tmp_path / "bad.onnx"
    not_onnx.write_bytes(b"not a model")
    assert main(["evaluate", str(not_onnx), str(tiny_data)]) == 2
    assert "not a loadable ONNX model" in capsys.readouterr().err


def test_train_cli_writes_json_summary(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "summary.json"
    run_dir = tmp_path / "run"
    args = ["train", str(tiny_data), "--out", str(run_dir), "--epochs", "1", "--image-size", "64"]
    assert main([*args, "--json", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "ROC-AUC" in printed and "model card" in printed
    assert "ROC-AUC 95% CI" in printed and "1000 group resamples of 2 groups" in printed
    summary = json.loads(out.read_text())
    assert summary["training"]["epochs_run"] == 1 and (run_dir / "model.onnx").is_file()
    assert main(["train", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r2")]) == 2
    assert "does not exist" in capsys.readouterr().err
