"""`counterscan data check` on generated photo sets with planted problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from counterscan.cli import main
from counterscan.datasets.check import CheckSettings, check_dataset

SETTINGS = CheckSettings(workers=1, progress=False)


def _kinds(report) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for finding in report.findings:
        kinds.setdefault(finding.path, set()).add(f"{finding.severity}:{finding.kind}")
    return kinds


def test_clean_set_passes_with_statistics(tmp_path: Path, make_clean_set, capsys) -> None:
    root = make_clean_set(tmp_path / "set")  # 8 objects x 2 photos, no split
    report = check_dataset(root, SETTINGS)
    assert report.findings == []  # two photos of one object are not copies
    stats = report.stats
    assert stats["classes"] == {"genuine": 8, "counterfeit": 8}
    assert stats["groups"]["groups"] == 8
    assert stats["groups"]["photos_per_group"] == {"min": 2, "median": 2, "max": 2}
    assert stats["images"]["width"]["median"] == 256 and stats["images"]["formats"] == {"JPEG": 16}
    assert main(["data", "check", str(root), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "classes: genuine 8 (50.0%), counterfeit 8 (50.0%)" in out
    assert "0 errors, 0 warnings" in out and "similarity >= 0.945" in out


def test_planted_problems_fail_the_check_naming_each_file(
    tmp_path: Path, make_clean_set, make_dataset, manifest_rows, scene, jpeg, capsys
) -> None:
    root = make_clean_set(tmp_path / "set", split=True)  # train: items 0 1 4 5, val 2 6, test 3 7
    rows = manifest_rows(root)
    original = (root / "genuine/item00_1.jpg").read_bytes()
    train_photo = scene(104)  # counterfeit/item04_0.jpg, in train
    w, h = train_photo.size
    reupload = jpeg(train_photo.crop((8, 4, w - 4, h - 6)).resize((200, 150)), quality=60)
    files = {
        "genuine/item00_1.jpg": original[: len(original) * 2 // 3],  # truncated JPEG
        "genuine/empty.jpg": b"",
        "genuine/readme.jpg": b"this is a text file, not a photo\n",
        "genuine/tiny.png": jpeg(scene(7, size=(40, 30)), fmt="PNG"),
        "counterfeit/reupload.jpg": reupload,
        "counterfeit/dup.jpg": (root / "counterfeit/item05_0.jpg").read_bytes(),
    }
    rows += [
        {"path": "genuine/empty.jpg", "label": "genuine", "group": "e", "split": "train"},
        {"path": "genuine/readme.jpg", "label": "genuine", "group": "r", "split": "train"},
        {"path": "genuine/missing.jpg", "label": "genuine", "group": "m", "split": "train"},
        {"path": "genuine/tiny.png", "label": "genuine", "group": "t", "split": "train"},
        {"path": "counterfeit/reupload.jpg", "label": "counterfeit", "group": "u", "split": "test"},
        {"path": "counterfeit/dup.jpg", "label": "counterfeit", "group": "d", "split": "train"},
        {
            "path": "genuine/item01_0.jpg",
            "label": "counterfeit",
            "group": "item01",
            "split": "train",
        },
    ]
    make_dataset(root, rows, files)
    report_path = tmp_path / "report.json"
    assert main(["data", "check", str(root), "--json", str(report_path)]) == 1
    out = capsys.readouterr().out
    expected_errors = {
        "genuine/item00_1.jpg": "truncated",
        "genuine/empty.jpg": "empty",
        "genuine/readme.jpg": "not_image",
        "genuine/missing.jpg": "missing",
        "counterfeit/reupload.jpg": "copy_across_splits",
        "counterfeit/item04_0.jpg": "copy_across_splits",
        "genuine/item01_0.jpg": "conflicting_labels",
    }
    for path, kind in expected_errors.items():
        assert f"ERROR   {path}: {kind}:" in out
    assert "warning genuine/tiny.png: too_small: 40x30 pixels" in out
    assert (
        "counterfeit/dup.jpg: duplicate: same photo: counterfeit/train here; "
        "counterfeit/item05_0.jpg (counterfeit/train; identical bytes)"
    ) in out
    assert (
        "genuine/item01_0.jpg: conflicting_labels: the same photo is labelled counterfeit and "
        "genuine: listed 2 times here (genuine/train, counterfeit/train)"
    ) in out
    report = json.loads(report_path.read_text())
    assert report["errors"] == len(expected_errors) and report["photos"] == 23
    found = {(f["path"], f["kind"]) for f in report["findings"] if f["severity"] == "error"}
    assert found == set(expected_errors.items())
    leak = next(f for f in report["findings"] if f["path"] == "counterfeit/reupload.jpg")
    assert leak["related"] == ["counterfeit/item04_0.jpg"] and "near copy" in leak["message"]
    assert "0.945" in report["near_duplicate_rule"]


def test_group_spread_over_splits_is_an_error(
    tmp_path: Path, make_clean_set, manifest_rows, make_dataset
) -> None:
    root = make_clean_set(tmp_path / "set", split=True)
    rows = manifest_rows(root)
    moved = next(r for r in rows if r["path"] == "genuine/item02_1.jpg")  # item02 is in val
    moved["split"] = "test"
    make_dataset(root, rows, {})
    report = check_dataset(root, SETTINGS)
    assert _kinds(report) == {"genuine/item02_0.jpg": {"error:group_across_splits"}} or _kinds(
        report
    ) == {"genuine/item02_1.jpg": {"error:group_across_splits"}}
    assert "group 'item02' is split (1 in test, 1 in val)" in report.errors[0].message


def test_copies_in_one_split_with_one_label_are_warnings(
    tmp_path: Path, make_clean_set, manifest_rows, make_dataset, scene, jpeg
) -> None:
    root = make_clean_set(tmp_path / "set")
    rows = manifest_rows(root)
    rows.append({"path": "genuine/again.jpg", "label": "genuine", "group": "other"})
    make_dataset(root, rows, {"genuine/again.jpg": jpeg(scene(101).resize((384, 288)), quality=70)})
    report = check_dataset(root, SETTINGS)
    assert not report.errors
    assert _kinds(report) == {
        "genuine/again.jpg": {"warning:duplicate"},
        "genuine/item01_0.jpg": {"warning:duplicate"},
    }
    assert report.stats["copies"] == {"exact_pairs": 0, "near_pairs": 1}


def test_copy_across_split_folders_in_the_folder_layout(tmp_path: Path, scene, jpeg) -> None:
    root = tmp_path / "set"
    photos = {
        "train/genuine/a.jpg": jpeg(scene(1)),
        "train/counterfeit/b.jpg": jpeg(scene(2)),
        "test/genuine/c.jpg": jpeg(scene(3)),
        "test/counterfeit/b-copy.jpg": jpeg(scene(2), quality=75),
    }
    for rel, data in photos.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    report = check_dataset(root, SETTINGS)
    assert _kinds(report) == {
        "train/counterfeit/b.jpg": {"error:copy_across_splits"},
        "test/counterfeit/b-copy.jpg": {"error:copy_across_splits"},
    }
    assert not report.has_manifest


def test_cli_default_threshold_is_the_measured_one() -> None:
    from counterscan.datasets import cli, neardup

    assert cli.NEAR_DUPLICATE_SIMILARITY_DEFAULT == neardup.NEAR_DUPLICATE_SIMILARITY


def test_thresholds_are_options(tmp_path: Path, make_clean_set, capsys) -> None:
    root = make_clean_set(tmp_path / "set", groups=2, shots=1)
    assert main(["data", "check", str(root), "--min-side", "300"]) == 0
    out = capsys.readouterr().out
    assert out.count("too_small") == 2 and "short side < 300 px" in out
    with pytest.raises(SystemExit):
        main(["data", "check", str(root), "--near-similarity", "1.5"])


def test_unwritable_json_is_a_one_line_error(tmp_path: Path, make_clean_set, capsys) -> None:
    root = make_clean_set(tmp_path / "set", groups=2, shots=1)
    assert main(["data", "check", str(root), "--json", str(tmp_path / "no/dir/r.json")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_synthetic_sample_passes_the_check(tmp_path: Path, capsys) -> None:
    """The bundled generator's photos of one item are several photos, not copies of one."""
    out = tmp_path / "synth"
    assert (
        main(
            [
                "data",
                "synth",
                str(out),
                "--n",
                "10",
                "--seed",
                "2",
                "--json",
                str(tmp_path / "s.json"),
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "s.json").read_text())["photos"] == 10
    assert main(["data", "check", str(out), "--workers", "1"]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out
