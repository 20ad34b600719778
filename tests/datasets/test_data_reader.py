"""Reading datasets in both layouts of DESIGN.md, and the one-line errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from counterscan.cli import main
from counterscan.datasets.reader import read_dataset, write_manifest
from counterscan.errors import CounterscanError

PHOTO = b"not decoded by the reader"  # the reader never opens the photos


def _files(*rels: str) -> dict[str, bytes]:
    return dict.fromkeys(rels, PHOTO)


def _error(root: Path, **kwargs: bool) -> str:
    with pytest.raises(CounterscanError) as info:
        read_dataset(root, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_manifest_layout_with_synonyms_relative_paths_and_extra_columns(
    tmp_path: Path, make_dataset
) -> None:
    rows = [
        {"path": "a/one.jpg", "label": "Real", "split": "Train", "group": "g1", "shop": "s1"},
        {"path": "./a/two.jpg", "label": "authentic", "split": "valid", "group": "", "shop": ""},
        {"path": "b/three.jpg", "label": "FAKE", "split": "validation", "group": "g2", "shop": "s"},
        {"path": "b/../b/four.png", "label": "counterfeit", "split": "test", "group": "g2"},
    ]
    files = _files("a/one.jpg", "a/two.jpg", "b/three.jpg", "b/four.png")
    root = make_dataset(tmp_path / "set", rows, files)
    dataset = read_dataset(root)
    assert dataset.has_manifest and dataset.has_split
    assert dataset.extra_columns == ["shop"]
    got = [(s.rel, s.label, s.split, s.group, s.extra) for s in dataset.samples]
    assert got == [
        ("a/one.jpg", "genuine", "train", "g1", {"shop": "s1"}),
        ("./a/two.jpg", "genuine", "val", "", {"shop": ""}),
        ("b/three.jpg", "counterfeit", "val", "g2", {"shop": "s"}),
        ("b/../b/four.png", "counterfeit", "test", "g2", {"shop": ""}),
    ]
    assert dataset.samples[1].path == root.resolve() / "a" / "two.jpg"
    assert [s.target for s in dataset.samples] == [0, 0, 1, 1]
    assert dataset.samples[1].group_key != dataset.samples[0].group_key  # no group: its own


def test_manifest_with_byte_order_mark_and_blank_lines(tmp_path: Path) -> None:
    root = tmp_path / "set"
    (root / "x").mkdir(parents=True)
    for name in ("g.jpg", "c.jpg"):
        (root / "x" / name).write_bytes(PHOTO)
    text = "\ufeffpath,label\nx/g.jpg,genuine\n\n,\nx/c.jpg,fake\n"
    (root / "manifest.csv").write_text(text, encoding="utf-8")
    assert [s.label for s in read_dataset(root).samples] == ["genuine", "counterfeit"]


def test_folder_layout_flat_and_split(tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    for rel in ("real/1.jpg", "fake/2.PNG", "fake/sub/3.webp", "fake/notes.txt", "other/4.jpg"):
        (flat / rel).parent.mkdir(parents=True, exist_ok=True)
        (flat / rel).write_bytes(PHOTO)
    dataset = read_dataset(flat)
    assert not dataset.has_manifest and not dataset.has_split
    assert [(s.rel, s.label) for s in dataset.samples] == [
        ("fake/2.PNG", "counterfeit"),
        ("fake/sub/3.webp", "counterfeit"),
        ("real/1.jpg", "genuine"),
    ]
    nested = tmp_path / "nested"
    for rel in ("train/genuine/a.jpg", "train/counterfeit/b.jpg", "valid/genuine/c.jpg"):
        (nested / rel).parent.mkdir(parents=True, exist_ok=True)
        (nested / rel).write_bytes(PHOTO)
    (nested / "test" / "counterfeit").mkdir(parents=True)
    (nested / "test" / "counterfeit" / "d.jpeg").write_bytes(PHOTO)
    got = {s.rel: (s.label, s.split) for s in read_dataset(nested).samples}
    assert got == {
        "train/genuine/a.jpg": ("genuine", "train"),
        "train/counterfeit/b.jpg": ("counterfeit", "train"),
        "valid/genuine/c.jpg": ("genuine", "val"),
        "test/counterfeit/d.jpeg": ("counterfeit", "test"),
    }


def test_write_manifest_round_trips(tmp_path: Path, make_dataset) -> None:
    rows = [
        {"path": "g.jpg", "label": "real", "group": "a", "note": "x, with comma"},
        {"path": "c.jpg", "label": "fake", "group": "a", "note": 'quote "q"'},
    ]
    root = make_dataset(tmp_path / "set", rows, _files("g.jpg", "c.jpg"))
    dataset = read_dataset(root)
    write_manifest(dataset, root / "copy.csv")
    (root / "manifest.csv").replace(root / "old.csv")
    (root / "copy.csv").replace(root / "manifest.csv")
    again = read_dataset(root)
    assert [(s.rel, s.label, s.group, s.extra) for s in again.samples] == [
        (s.rel, s.label, s.group, s.extra) for s in dataset.samples
    ]


@pytest.mark.parametrize(
    ("rows", "files", "expected"),
    [
        ([{"path": "a.jpg", "kind": "genuine"}], ["a.jpg"], "missing column(s) label"),
        ([{"file": "a.jpg", "class": "x"}], ["a.jpg"], "missing column(s) path, label"),
        ([{"path": "a.jpg", "label": "maybe"}], ["a.jpg"], "line 2: unknown label 'maybe'"),
        (
            [{"path": "a.jpg", "label": "real", "split": "holdout"}],
            ["a.jpg"],
            "unknown split 'holdout'",
        ),
        ([{"path": "../outside.jpg", "label": "real"}], [], "escapes the dataset folder"),
        ([{"path": "/etc/passwd", "label": "real"}], [], "is absolute"),
        ([{"path": "gone.jpg", "label": "real"}], [], "file 'gone.jpg' does not exist"),
        (
            [{"path": "a.jpg", "label": "real"}, {"path": "b.jpg", "label": "authentic"}],
            ["a.jpg", "b.jpg"],
            "class 'counterfeit' has no photos",
        ),
    ],
)
def test_bad_manifests_are_one_line_errors(
    tmp_path: Path, make_dataset, rows: list[dict], files: list[str], expected: str
) -> None:
    root = make_dataset(tmp_path / "set", rows, _files(*files))
    assert expected in _error(root)


def test_escape_through_a_symlink_is_refused(tmp_path: Path, make_dataset) -> None:
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(PHOTO)
    root = make_dataset(
        tmp_path / "set",
        [{"path": "link.jpg", "label": "real"}, {"path": "c.jpg", "label": "fake"}],
        _files("c.jpg"),
    )
    (root / "link.jpg").symlink_to(outside)
    assert "escapes the dataset folder" in _error(root)


def test_missing_folder_and_empty_folder(tmp_path: Path) -> None:
    assert "does not exist" in _error(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    assert "no photos found" in _error(tmp_path / "empty")


def test_missing_files_can_be_tolerated_for_checking(tmp_path: Path, make_dataset) -> None:
    rows = [{"path": "gone.jpg", "label": "real"}, {"path": "c.jpg", "label": "fake"}]
    root = make_dataset(tmp_path / "set", rows, _files("c.jpg"))
    dataset = read_dataset(root, require_files=False)
    assert [s.rel for s in dataset.samples] == ["gone.jpg", "c.jpg"]


def test_cli_reports_a_bad_manifest_in_one_line(tmp_path: Path, make_dataset, capsys) -> None:
    root = make_dataset(tmp_path / "set", [{"path": "a.jpg", "lbl": "real"}], _files("a.jpg"))
    for command in (["data", "check", str(root)], ["data", "split", str(root)]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"counterscan data: error: {root.resolve() / 'manifest.csv'}")
        assert "missing column(s) label" in err and "\n" not in err
