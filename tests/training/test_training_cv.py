"""`counterscan train --cv K`: group folds, one normal run per fold, cv.json/cv.md, re-runs."""

from __future__ import annotations

import csv
import json
import shutil
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from counterscan.cli import main
from counterscan.datasets.reader import read_dataset
from counterscan.training.config import TrainConfig
from counterscan.training.crossval import plan_folds

# 1 epoch at 64 px, 60% of each fold's training groups: the CLI path end to end, in seconds.
CV_ARGS = ["--cv", "2", "--epochs", "1", "--image-size", "64", "--train-fraction", "0.6"]


def _drop_counterfeits(root: Path, keep: int) -> None:
    """Keep only the first `keep` counterfeit photos in the manifest (an imbalanced set)."""
    manifest = root / "manifest.csv"
    rows = list(csv.DictReader(manifest.open()))
    rows = [r for r in rows if r["label"] == "genuine" or int(r["path"][-7:-4]) < keep]
    with manifest.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_folds_partition_the_groups_stratified_and_seeded(
    tmp_path: Path, make_tiny_dataset: Any
) -> None:
    root = make_tiny_dataset(tmp_path / "data", with_split=False, per_class=30)
    _drop_counterfeits(root, keep=10)  # 15 genuine groups, 5 counterfeit groups, of 2 photos
    dataset = read_dataset(root)
    plans = plan_folds(dataset, 5, TrainConfig())
    assert len(plans) == 5
    tested = Counter(rel for plan in plans for rel, side in plan.items() if side == "test")
    assert tested == Counter(s.rel for s in dataset.samples)  # each photo tested exactly once
    label = {s.rel: s.label for s in dataset.samples}
    for plan in plans:
        sides: dict[str, set[str]] = defaultdict(set)
        for s in dataset.samples:
            sides[s.group_key].add(plan[s.rel])
        assert all(len(v) == 1 for v in sides.values())  # no group on two sides of a fold
        test = Counter(label[rel] for rel, side in plan.items() if side == "test")
        assert test == {"genuine": 6, "counterfeit": 2}  # stratified: 3 + 1 groups per fold
        val = Counter(label[rel] for rel, side in plan.items() if side == "val")
        assert val == {"genuine": 4, "counterfeit": 2}  # 15% of the other 24 + 8, by group
    assert plan_folds(dataset, 5, TrainConfig()) == plans
    assert plan_folds(dataset, 5, TrainConfig(seed=1)) != plans


def test_copies_of_one_photo_stay_in_one_fold(tmp_path: Path, make_tiny_dataset: Any) -> None:
    root = make_tiny_dataset(tmp_path / "data", with_split=False)
    shutil.copyfile(root / "genuine/000.jpg", root / "genuine/copy.jpg")  # a re-upload
    with (root / "manifest.csv").open("a", newline="") as f:
        csv.writer(f).writerow(["genuine/copy.jpg", "genuine", "another-listing"])
    plans = plan_folds(read_dataset(root), 3, TrainConfig())
    for plan in plans:
        assert plan["genuine/copy.jpg"] == plan["genuine/000.jpg"] == plan["genuine/001.jpg"]


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One 2-fold CLI run on a dataset that has its own split (which --cv ignores)."""
    from tests.helpers.photos import labelled_photo

    root = tmp_path_factory.mktemp("cv") / "data"
    rows = []
    for label in ("genuine", "counterfeit"):
        (root / label).mkdir(parents=True)
        for i in range(20):
            labelled_photo(label == "counterfeit", i + 1000 * (label == "counterfeit")).save(
                root / f"{label}/{i:03d}.jpg", quality=92
            )
            rows.append([f"{label}/{i:03d}.jpg", label, f"{label}-{i // 2}", "train"])
    rows[-1][3] = rows[0][3] = "test"
    with (root / "manifest.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["path", "label", "group", "split"], *rows])
    out = root.parent / "cv"
    json_copy = root.parent / "copy.json"
    args = ["train", str(root), "--out", str(out), *CV_ARGS, "--json", str(json_copy), "--quiet"]
    assert main(args) == 0
    return {"data": root, "out": out, "args": args, "json": json_copy}


def test_every_fold_is_a_normal_run_tested_on_its_fold(cv_run: dict[str, Any]) -> None:
    out, data = cv_run["out"], read_dataset(cv_run["data"])
    config = TrainConfig(epochs=1, image_size=64, train_fraction=0.6)
    plans = plan_folds(data, 2, config)
    report = json.loads((out / "cv.json").read_text())
    assert report["k"] == 2 and report["dataset_split_ignored"] is True
    assert json.loads(cv_run["json"].read_text()) == report
    for k, plan in enumerate(plans, start=1):
        fold = out / f"fold-{k}"
        for name in ("model.onnx", "summary.json", "model_card.md", "split.csv", "best.pt"):
            assert (fold / name).is_file(), (k, name)
        recorded = {r["path"]: r["split"] for r in csv.DictReader((fold / "split.csv").open())}
        for side in ("val", "test"):
            assert {p for p, s in recorded.items() if s == side} == {
                p for p, s in plan.items() if s == side
            }
        planned_train = sum(s == "train" for s in plan.values())
        assert 0 < sum(s == "train" for s in recorded.values()) < planned_train  # 60% of it
        summary = json.loads((fold / "summary.json").read_text())
        record = report["folds"][k - 1]
        assert record["fold"] == k and record["reused"] is False
        assert record["test"]["photos"] == summary["metrics"]["test"]["n"] == 20
        assert record["test"]["groups"] == 10
        for key in ("roc_auc", "average_precision", "accuracy", "ece"):
            assert record[key] == summary["metrics"]["test"][key], key
        assert record["best_epoch"] == summary["training"]["best_epoch"] == 1
        assert record["train_seconds"] == summary["training"]["train_seconds"]


def test_cv_summary_is_mean_and_sd_of_the_folds(cv_run: dict[str, Any]) -> None:
    report = json.loads((cv_run["out"] / "cv.json").read_text())
    for key in ("roc_auc", "average_precision", "accuracy", "ece", "train_seconds"):
        values = [f[key] for f in report["folds"]]
        s = report["summary"][key]
        assert s["mean"] == pytest.approx(sum(values) / 2), key
        assert s["sd"] == pytest.approx(abs(values[0] - values[1]) / 2**0.5), key  # ddof=1
        assert (s["min"], s["max"], s["n"]) == (min(values), max(values), 2)
    assert report["total_seconds"] > 0
    assert report["folds_total_seconds"] == pytest.approx(
        sum(f["total_seconds"] for f in report["folds"]), abs=0.11
    )
    md = (cv_run["out"] / "cv.md").read_text()
    auc = report["summary"]["roc_auc"]
    assert f"| **mean** |  |  |  | {auc['mean']:.4f} |" in md
    assert f"| **sd** |  |  |  | {auc['sd']:.4f} |" in md
    assert md.count("\n| 1 | 20 (10) | 10 |") == 1 and "its own split ignored" in md
    assert statistics.stdev([1.0, 2.0]) == pytest.approx(2**-0.5)  # the ddof=1 formula above


def test_the_same_command_again_reuses_or_resumes_folds(
    cv_run: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "cv"
    shutil.copytree(cv_run["out"], out)
    moved = {str(cv_run["out"]): str(out), str(cv_run["json"]): str(tmp_path / "copy.json")}
    args = [moved.get(a, a) for a in cv_run["args"]]
    before = json.loads((out / "cv.json").read_text())
    (out / "fold-2" / "summary.json").unlink()  # killed during fold 2's final steps
    assert main(args) == 0
    done = [line for line in capsys.readouterr().err.splitlines() if ": test ROC-AUC" in line]
    assert len(done) == 2 and done[0].endswith("(reused)") and "reused" not in done[1]
    after = json.loads((out / "cv.json").read_text())
    assert [f["reused"] for f in after["folds"]] == [True, False]
    assert after["folds"][0] == {
        **before["folds"][0],
        "reused": True,
        "run_dir": str(out / "fold-1"),
    }
    assert after["folds"][1]["roc_auc"] == pytest.approx(before["folds"][1]["roc_auc"])
    assert after["folds"][1]["best_epoch"] == before["folds"][1]["best_epoch"]

    assert main([*args, "--seed", "3"]) == 2  # another seed: other folds
    assert "fold-1 holds a run of another split" in capsys.readouterr().err
    assert main([*args[:-1], "--epochs", "2", "--quiet"]) == 2
    assert "holds a run with other settings (epochs)" in capsys.readouterr().err
    fold1 = out / "fold-1" / "summary.json"  # as if a label or group changed since
    fold1.write_text(json.dumps({**json.loads(fold1.read_text()), "manifest_sha256": "0" * 64}))
    assert main(args) == 2
    assert "fold-1 holds a run of other data" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cv", "1"], "--cv needs at least 2 folds, got 1"),
        (["--cv", "11"], "--cv 11 needs at least 11 groups of each class"),
        (["--cv", "2", "--resume"], "--cv and --resume do not go together"),
    ],
)
def test_bad_cv_requests_are_one_line_errors(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture, extra: list[str], message: str
) -> None:
    args = ["train", str(tiny_data), "--out", str(tmp_path / "cv"), *extra, "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "cv").exists()


def test_cv_refuses_torchrun(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: Any
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", str(tiny_data), "--out", str(tmp_path / "cv"), "--cv", "2"]) == 2
    assert "--cv runs in one process" in capsys.readouterr().err
