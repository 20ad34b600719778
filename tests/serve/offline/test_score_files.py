"""`counterscan score`: offline bulk scoring of files and folders, bad files reported per row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from counterscan.cli import main


@pytest.fixture
def dump(tmp_path: Path, make_image) -> Path:
    root = tmp_path / "dump"
    (root / "shop" / "deep").mkdir(parents=True)
    for i in range(5):
        (root / "shop" / f"{i}.jpg").write_bytes(make_image(seed=i))
    (root / "shop" / "deep" / "x.png").write_bytes(make_image("PNG", seed=9))
    (root / "shop" / "broken.jpg").write_bytes(b"not a jpeg")
    (root / "shop" / "notes.txt").write_text("not an image suffix: skipped in folders")
    return root


def test_score_folder_to_csv(
    dump: Path, tmp_path: Path, onnx_model_path: Path, model_contract
) -> None:
    out, summary = tmp_path / "scores.csv", tmp_path / "summary.json"
    rc = main(["score", str(onnx_model_path), str(dump), "--out", str(out),
               "--threads", "1", "--batch-size", "4", "--json", str(summary)])  # fmt: skip
    assert rc == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 7
    expected = sorted(p for p in dump.rglob("*") if p.suffix in (".jpg", ".png"))
    assert [r["path"] for r in rows] == [str(p) for p in expected]  # stable order, no .txt
    by_name = {Path(r["path"]).name: r for r in rows}
    assert by_name["broken.jpg"]["ok"] == "False"
    assert "not a recognised image" in by_name["broken.jpg"]["error"]
    good = [r for r in rows if r["ok"] == "True"]
    assert len(good) == 6
    assert all(
        0 <= float(r["score"]) <= 1 and r["model_version"] == model_contract.model_version
        for r in good
    )
    report = json.loads(summary.read_text())
    assert (report["images"], report["ok"], report["errors"]) == (7, 6, 1)


def test_scores_match_the_service(dump: Path, tmp_path: Path, onnx_model_path, app_client):
    out = tmp_path / "scores.jsonl"
    photo = dump / "shop" / "2.jpg"
    assert main(["score", str(onnx_model_path), str(photo), "--out", str(out)]) == 0
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    served = app_client.post(
        "/v1/score", files={"image": ("2.jpg", photo.read_bytes(), "image/jpeg")}
    ).json()
    assert row["sha256"] == served["sha256"] and row["phash"] == served["phash"]
    assert row["score"] == pytest.approx(served["score"], abs=1e-5)


def test_bad_arguments_are_one_line_errors(tmp_path: Path, onnx_model_path, capsys) -> None:
    assert main(["score", str(onnx_model_path), str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["score", str(onnx_model_path), str(tmp_path / "empty")]) == 2
    assert "no image files" in capsys.readouterr().err
    img = tmp_path / "a.jpg"
    img.write_bytes(b"x")
    assert main(["score", str(onnx_model_path), str(img), "--out", str(tmp_path / "o.xlsx")]) == 2
    assert "--out must end in .csv or .jsonl" in capsys.readouterr().err
    assert main(["score", str(tmp_path / "nomodel.onnx"), str(img)]) == 2
    assert "does not exist" in capsys.readouterr().err
