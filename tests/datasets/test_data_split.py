"""`counterscan data split`: groups and copies kept whole, stratified, deterministic, backed up."""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from counterscan.cli import main
from counterscan.datasets.reader import read_dataset
from counterscan.datasets.split import SplitSettings, assign_units, split_dataset

FAST = {"workers": 1, "progress": False}


def _sides(rows: list[dict[str, str]], key: str) -> dict[str, set[str]]:
    sides: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        sides[row[key]].add(row["split"])
    return sides


def test_assignment_is_stratified_by_label_and_deterministic() -> None:
    rng = random.Random(0)
    units = [
        Counter({rng.choice(["genuine", "counterfeit", "counterfeit"]): rng.randint(1, 6)})
        for _ in range(300)
    ]
    fractions = {"train": 0.7, "val": 0.15, "test": 0.15}
    chosen = assign_units(units, fractions, seed=3)
    totals = Counter[str]()
    for unit in units:
        totals.update(unit)
    for split, fraction in fractions.items():
        for label in ("genuine", "counterfeit"):
            got = sum(u[label] for u, s in zip(units, chosen, strict=True) if s == split)
            assert abs(got - fraction * totals[label]) <= 6, (split, label, got)
    assert assign_units(units, fractions, seed=3) == chosen
    assert assign_units(units, fractions, seed=4) != chosen


def test_a_zero_fraction_leaves_that_split_empty() -> None:
    units = [Counter({"genuine": 1}), Counter({"counterfeit": 1})] * 10
    chosen = assign_units(units, {"train": 0.8, "val": 0.0, "test": 0.2}, seed=0)
    assert set(chosen) == {"train", "test"} and chosen.count("test") == 4


def test_split_keeps_groups_and_copies_together_and_backs_up(
    tmp_path: Path, make_clean_set, make_dataset, manifest_rows, scene, jpeg, capsys
) -> None:
    root = make_clean_set(tmp_path / "set", groups=12, shots=3)
    rows = manifest_rows(root)
    for row in rows:
        row["shop"] = f"shop-{row['group']}"  # an extra column, to be kept
    # item00's photo re-uploaded, resized and re-encoded, in another listing (group)
    rows.append({"path": "genuine/reup.jpg", "label": "genuine", "group": "lst", "shop": "x"})
    rows.append({"path": "genuine/lst2.jpg", "label": "genuine", "group": "lst", "shop": "x"})
    copy = jpeg(scene(100).resize((300, 225)), quality=65)
    make_dataset(root, rows, {"genuine/reup.jpg": copy, "genuine/lst2.jpg": jpeg(scene(55))})
    before = (root / "manifest.csv").read_bytes()
    json_path = tmp_path / "split.json"
    args = ["data", "split", str(root), "--val", "0.2", "--test", "0.2", "--seed", "5"]
    assert main([*args, "--workers", "1", "--json", str(json_path)]) == 0
    out = capsys.readouterr().out
    assert "38 photos of 13 groups into 12 units kept whole (1 join several groups" in out
    assert (root / "manifest.csv.bak").read_bytes() == before
    after = manifest_rows(root)
    assert [r["path"] for r in after] == [r["path"] for r in rows]
    assert all(r["shop"] for r in after)
    assert all(len(s) == 1 for s in _sides(after, "group").values())
    split_of = {r["path"]: r["split"] for r in after}
    assert split_of["genuine/reup.jpg"] == split_of["genuine/item00_0.jpg"]
    assert split_of["genuine/lst2.jpg"] == split_of["genuine/item00_0.jpg"]
    for split in ("train", "val", "test"):  # every split gets both classes
        assert {r["label"] for r in after if r["split"] == split} == {"genuine", "counterfeit"}
    report = json.loads(json_path.read_text())
    assert (
        report["counts"]["train"]["genuine"]
        + report["counts"]["val"]["genuine"]
        + report["counts"]["test"]["genuine"]
        == 20
    )
    assert report["backup"].endswith("manifest.csv.bak")
    # the result passes the leak checks of `data check`
    assert main(["data", "check", str(root), "--workers", "1"]) == 0
    # a second split keeps the first backup and adds another
    assert main([*args, "--seed", "6"]) == 0
    assert (root / "manifest.csv.bak").read_bytes() == before
    assert (root / "manifest.csv.bak.1").exists()


def test_same_seed_same_split(tmp_path: Path, make_clean_set) -> None:
    root = make_clean_set(tmp_path / "set", groups=16, shots=2)
    manifests = []
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        settings = SplitSettings(val=0.25, test=0.25, seed=seed, **FAST)
        split_dataset(root, settings, out=tmp_path / name)
        manifests.append((tmp_path / name / "manifest.csv").read_bytes())
    assert manifests[0] == manifests[1]
    assert manifests[0] != manifests[2]


def test_folder_layout_gets_a_new_manifest(tmp_path: Path, scene, jpeg) -> None:
    root = tmp_path / "set"
    for k in range(8):
        label = ("genuine", "counterfeit")[k % 2]
        (root / label).mkdir(parents=True, exist_ok=True)
        (root / label / f"{k}.jpg").write_bytes(jpeg(scene(k)))
    result = split_dataset(root, SplitSettings(val=0.25, test=0.25, **FAST))
    assert result.backup is None and result.manifest == root.resolve() / "manifest.csv"
    dataset = read_dataset(root)
    assert dataset.has_manifest
    assert Counter(s.split for s in dataset.samples) == {"train": 4, "val": 2, "test": 2}


def test_read_only_dataset_needs_out(tmp_path: Path, make_clean_set, capsys) -> None:
    root = make_clean_set(tmp_path / "set", groups=8, shots=2)
    before = (root / "manifest.csv").read_bytes()
    os.chmod(root, 0o555)  # mode bits are honoured even when the tests run as root
    try:
        assert main(["data", "split", str(root)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.endswith("is read-only; use --out DIR to write the split dataset elsewhere")
        out = tmp_path / "made" / "here"
        assert main(["data", "split", str(root), "--out", str(out), "--workers", "1"]) == 0
    finally:
        os.chmod(root, 0o755)
    assert (root / "manifest.csv").read_bytes() == before
    assert sorted(p.name for p in root.iterdir()) == ["counterfeit", "genuine", "manifest.csv"]
    copied = out / "genuine" / "item00_0.jpg"
    original = root / "genuine" / "item00_0.jpg"
    assert copied.read_bytes() == original.read_bytes()
    assert copied.stat().st_ino != original.stat().st_ino  # a copy, not a link to the original
    assert {s.split for s in read_dataset(out).samples} == {"train", "val", "test"}
    assert main(["data", "check", str(out), "--workers", "1"]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--val", "0.6", "--test", "0.4"], "--val + --test must leave photos for training"),
        (["--val", "0", "--test", "0"], "nothing to split off"),
        (["--out", "{root}/inside"], "is inside the dataset"),
        (["--out", "{busy}"], "exists and is not an empty folder"),
    ],
)
def test_bad_requests_are_one_line_errors(
    tmp_path: Path, make_clean_set, capsys, extra: list[str], message: str
) -> None:
    root = make_clean_set(tmp_path / "set", groups=2, shots=1)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something").write_text("x")
    extra = [e.format(root=root, busy=busy) for e in extra]
    assert main(["data", "split", str(root), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not (root / "manifest.csv.bak").exists()


def test_fraction_outside_zero_one_is_refused_by_the_parser(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["data", "split", str(tmp_path), "--val", "1.5"])
    assert info.value.code == 2
