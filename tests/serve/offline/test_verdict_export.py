"""from-verdicts: reviewed items come back out as a dataset that read_dataset accepts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from counterscan.datasets.reader import read_dataset
from counterscan.errors import CounterscanError
from counterscan.serve.offline.verdict_export import export_verdicts
from counterscan.serve.storage import Store


@pytest.fixture
def reviewed(store: Store, save_item) -> dict[str, str]:
    """Six items: two photos of listing L-shoe, one changed verdict, one unsure, one unreviewed."""
    ids = {
        "shoe_front": save_item(1, listing_id="L-shoe").id,
        "shoe_back": save_item(2, listing_id="L-shoe").id,
        "bag": save_item(3, listing_id="L-bag\nwith a line break").id,
        "watch": save_item(4, listing_id=None).id,
        "blurry": save_item(5).id,
        "untouched": save_item(6).id,
    }
    store.add_verdict(ids["shoe_front"], "counterfeit", "ana", "logo")
    store.add_verdict(ids["shoe_back"], "counterfeit", "ana")
    store.add_verdict(ids["bag"], "counterfeit", "bo")
    store.add_verdict(ids["bag"], "genuine", "ana", "receipt checked")  # changed: genuine counts
    store.add_verdict(ids["watch"], "genuine", "bo")
    store.add_verdict(ids["blurry"], "unsure", "bo")
    return ids


def test_export_reads_back_as_a_dataset(
    store: Store, reviewed: dict[str, str], db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "from-verdicts"
    summary = export_verdicts(db_url, data_dir, out)
    assert summary["samples"] == 4
    assert summary["labels"] == {"genuine": 2, "counterfeit": 2}
    assert summary["skipped"]["unsure"] == 1
    assert summary["both_classes"] is True

    dataset = read_dataset(out)
    assert dataset.has_manifest and not dataset.has_split
    by_item = {s.extra["item_id"]: s for s in dataset.samples}
    assert set(by_item) == {reviewed[k] for k in ("shoe_front", "shoe_back", "bag", "watch")}
    assert by_item[reviewed["bag"]].label == "genuine"
    assert by_item[reviewed["shoe_front"]].label == "counterfeit"
    # both photos of one listing share a group; no listing id -> the image's own hash
    assert by_item[reviewed["shoe_front"]].group == by_item[reviewed["shoe_back"]].group == "L-shoe"
    watch = by_item[reviewed["watch"]]
    assert watch.group == watch.extra["sha256"]
    assert by_item[reviewed["bag"]].group == "L-bag with a line break"
    assert Counter(s.group for s in dataset.samples)["L-shoe"] == 2
    for sample in dataset.samples:  # images are the evidence, byte for byte
        item = store.get_item(sample.extra["item_id"])
        assert item is not None
        assert sample.path.read_bytes() == store.image_path(item).read_bytes()
        assert sample.path.suffix == ".jpg"
    assert by_item[reviewed["bag"]].extra["inspector"] == "ana"
    assert {"source", "listing_id", "verdict_at", "model_version", "score"} <= set(
        dataset.extra_columns
    )


def test_unsure_items_can_be_given_a_label(
    reviewed: dict[str, str], db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    summary = export_verdicts(db_url, data_dir, tmp_path / "out", include_unsure="counterfeit")
    assert summary["samples"] == 5 and summary["skipped"]["unsure"] == 0
    samples = {s.extra["item_id"]: s for s in read_dataset(tmp_path / "out").samples}
    blurry = samples[reviewed["blurry"]]
    assert blurry.label == "counterfeit" and blurry.extra["verdict"] == "unsure"


def test_one_sample_per_image_with_the_latest_verdict(
    store: Store, save_item, db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    old = save_item(7, model_version="m1")
    new = save_item(7, model_version="m2")  # same bytes, scored again by a newer model
    other = save_item(8)
    store.add_verdict(new.id, "counterfeit", "ana")
    store.add_verdict(old.id, "genuine", "bo")  # given last: wins
    store.add_verdict(other.id, "counterfeit", "ana")
    summary = export_verdicts(db_url, data_dir, tmp_path / "out")
    assert summary["samples"] == 2 and summary["skipped"]["duplicate_image"] == 1
    samples = {s.extra["sha256"]: s for s in read_dataset(tmp_path / "out").samples}
    assert samples[old.sha256].label == "genuine"
    assert samples[old.sha256].extra["item_id"] == old.id


def test_missing_evidence_is_skipped_and_counted(
    store: Store, save_item, db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    a, b = save_item(9), save_item(10)
    store.add_verdict(a.id, "counterfeit", "ana")
    store.add_verdict(b.id, "genuine", "ana")
    store.image_path(b).unlink()
    summary = export_verdicts(db_url, data_dir, tmp_path / "out")
    assert summary["samples"] == 1 and summary["skipped"]["missing_image"] == 1
    assert summary["both_classes"] is False


def test_refusals(store: Store, save_item, db_url: str, data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(CounterscanError, match="no reviewed items"):
        export_verdicts(db_url, data_dir, tmp_path / "empty")
    item = save_item(11)
    store.add_verdict(item.id, "genuine", "ana")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    with pytest.raises(CounterscanError, match="not an empty folder"):
        export_verdicts(db_url, data_dir, busy)
    with pytest.raises(CounterscanError, match="no evidence/ folder"):
        export_verdicts(db_url, tmp_path / "elsewhere", tmp_path / "o1")
    with pytest.raises(CounterscanError, match="include-unsure"):
        export_verdicts(db_url, data_dir, tmp_path / "o2", include_unsure="maybe")


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    (tmp_path / "data" / "evidence").mkdir(parents=True)
    db = tmp_path / "nope.db"
    with pytest.raises(CounterscanError, match="does not exist"):
        export_verdicts(f"sqlite:///{db}", tmp_path / "data", tmp_path / "out")
    assert not db.exists()


def test_cli_from_verdicts(
    reviewed: dict[str, str], db_url: str, data_dir: Path, tmp_path: Path, capsys
) -> None:
    from counterscan.cli import main

    out, report = tmp_path / "ds", tmp_path / "summary.json"
    argv = ["data", "from-verdicts", "--db", db_url, "--data-dir", str(data_dir), str(out)]
    assert main([*argv, "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "exported 4 photos (2 counterfeit, 2 genuine)" in printed
    assert "skipped 1 unsure" in printed
    import json

    assert json.loads(report.read_text())["samples"] == 4
    assert len(read_dataset(out).samples) == 4
    # again into the same folder: refused with one line, exit 2
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not an empty folder" in err


def _close(store: Store, item_ids: list[str], outcome: str, kind: str | None = None) -> int:
    case = store.cases.create("inspection", item_ids, actor="insp")
    store.cases.set_status(case.id, "inspecting", actor="insp")
    store.cases.set_status(case.id, outcome, actor="insp")
    store.cases.close(case.id, actor="insp", violation_kind=kind)
    return case.id


def test_closed_case_outcomes_are_labels_that_win_over_verdicts(
    store: Store, save_item, db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    fake_by_verdict = save_item(20).id  # verdict says genuine; the inspection found a fake
    only_case = save_item(21).id  # no verdict at all
    cleared = save_item(22).id  # verdict counterfeit; the inspection found nothing
    smuggled = save_item(23).id  # a violation that says nothing about the photo
    open_case = save_item(24).id  # case not closed: its verdict counts
    store.add_verdict(fake_by_verdict, "genuine", "ana")
    store.add_verdict(cleared, "counterfeit", "ana")
    store.add_verdict(smuggled, "genuine", "ana")
    store.add_verdict(open_case, "counterfeit", "ana")
    fake_case = _close(store, [fake_by_verdict, only_case], "violation", "counterfeit_goods")
    _close(store, [cleared], "no_violation")
    _close(store, [smuggled], "violation", "smuggled_goods")
    store.cases.create("still open", [open_case], actor="insp")

    summary = export_verdicts(db_url, data_dir, tmp_path / "out")
    samples = {s.extra["item_id"]: s for s in read_dataset(tmp_path / "out").samples}
    assert summary["samples"] == 5
    got = {i: (samples[i].label, samples[i].extra["label_source"]) for i in samples}
    assert got == {
        fake_by_verdict: ("counterfeit", "case"),
        only_case: ("counterfeit", "case"),
        cleared: ("genuine", "case"),
        smuggled: ("genuine", "verdict"),
        open_case: ("counterfeit", "verdict"),
    }
    assert samples[only_case].extra["case_id"] == str(fake_case)
    assert samples[only_case].extra["inspector"] == "insp"
    assert samples[fake_by_verdict].extra["verdict"] == "genuine"  # the verdict stays visible
