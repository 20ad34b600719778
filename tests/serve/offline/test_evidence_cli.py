"""`counterscan evidence keygen|export|verify` through the console script's main(), on SQLite
and PostgreSQL: key files, a package without a model (said in the manifest), and verify's exit
codes and messages for each kind of tampering."""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from pathlib import Path

from counterscan.cli import main
from counterscan.serve.storage import Store


def _closed_case(store: Store, save_item) -> tuple[int, list]:
    items = [save_item(1, listing_id="L-1"), save_item(2, listing_id="L-2")]
    case = store.cases.create("Shop", [i.id for i in items], actor="ana")
    store.cases.set_status(case.id, "inspecting", actor="ana")
    store.cases.set_status(case.id, "violation", actor="ana")
    store.cases.close(case.id, actor="ana", violation_kind="ip_infringement", fine_vnd=9_000_000)
    return case.id, items


def _rewrite(src: Path, dst: Path, change) -> None:
    with zipfile.ZipFile(src) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    change(files)
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)


def test_keygen_export_verify(
    store: Store, save_item, db_url: str, data_dir: Path, tmp_path: Path, capsys
) -> None:
    case_id, items = _closed_case(store, save_item)
    prefix = tmp_path / "office"
    assert main(["evidence", "keygen", str(prefix)]) == 0
    key, pub = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes() and b"PUBLIC KEY" in pub.read_bytes()
    assert main(["evidence", "keygen", str(prefix)]) == 2  # never overwrites a key

    out = tmp_path / "case.zip"
    argv = ["evidence", "export", str(case_id), "--db", db_url, "--data-dir", str(data_dir)]
    assert main([*argv, "--out", str(out), "--key", str(key), "--by", "dan"]) == 0
    assert "heat maps not included" in capsys.readouterr().out
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for item in items:
            assert zf.read(f"photos/{item.id}.jpg") == store.image_path(item).read_bytes()
        assert not [n for n in zf.namelist() if n.startswith("heatmaps/")]
    assert manifest["heatmaps"].startswith("not included")
    assert store.cases.get(case_id).history[-1].actor == "dan"  # the export is logged

    assert main(["evidence", "verify", str(out), "--public-key", str(pub)]) == 0
    assert "signature valid" in capsys.readouterr().out

    photo = f"photos/{items[0].id}.jpg"

    def one_byte(files: dict[str, bytes]) -> None:
        data = bytearray(files[photo])
        data[-3] ^= 0xFF
        files[photo] = bytes(data)

    def remove_add(files: dict[str, bytes]) -> None:
        del files["summary.html"]
        files["notes.txt"] = b"added later"

    tampered = tmp_path / "tampered.zip"
    _rewrite(out, tampered, one_byte)
    assert main(["evidence", "verify", str(tampered), "--public-key", str(pub)]) == 1
    err = capsys.readouterr().err
    assert f"changed: {photo}" in err and "signature" not in err
    assert err.count("\n") == 1  # only that file

    _rewrite(out, tampered, remove_add)
    assert main(["evidence", "verify", str(tampered), "--public-key", str(pub)]) == 1
    err = capsys.readouterr().err
    assert "removed: summary.html" in err and "added: notes.txt" in err

    other = tmp_path / "other"
    assert main(["evidence", "keygen", str(other)]) == 0
    assert main(["evidence", "verify", str(out), "--public-key", f"{other}.pub"]) == 1
    assert "signature does not verify" in capsys.readouterr().err

    # A manifest edited to match a changed photo no longer matches its signature.
    def forge(files: dict[str, bytes]) -> None:
        one_byte(files)
        manifest = json.loads(files["manifest.json"])
        for entry in manifest["files"]:
            if entry["path"] == photo:
                entry["sha256"] = hashlib.sha256(files[photo]).hexdigest()
        files["manifest.json"] = json.dumps(manifest).encode()

    _rewrite(out, tampered, forge)
    assert main(["evidence", "verify", str(tampered), "--public-key", str(pub)]) == 1
    assert "signature does not verify" in capsys.readouterr().err


def test_export_refusals(store: Store, db_url: str, data_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["evidence", "keygen", str(tmp_path / "k")]) == 0
    base = ["evidence", "export", "7", "--db", db_url, "--data-dir", str(data_dir)]
    assert main([*base, "--out", str(tmp_path / "x.zip"), "--key", str(tmp_path / "k.key")]) == 2
    assert "no case with id 7" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "x.zip"), "--key", str(tmp_path / "k.pub")]) == 2
    assert "not an unencrypted PEM private key" in capsys.readouterr().err
    not_zip = tmp_path / "n.zip"
    not_zip.write_bytes(b"hello")
    assert main(["evidence", "verify", str(not_zip), "--public-key", str(tmp_path / "k.pub")]) == 2
    assert "not a readable ZIP" in capsys.readouterr().err


def test_export_with_a_model_has_heat_maps(
    store: Store, save_item, db_url: str, data_dir: Path, tmp_path: Path, onnx_model_path: Path
) -> None:
    case_id, items = _closed_case(store, save_item)
    assert main(["evidence", "keygen", str(tmp_path / "k")]) == 0
    out = tmp_path / "case.zip"
    argv = ["evidence", "export", str(case_id), "--db", db_url, "--data-dir", str(data_dir)]
    argv += ["--out", str(out), "--key", str(tmp_path / "k.key"), "--model", str(onnx_model_path)]
    assert main([*argv, "--lang", "en"]) == 0
    with zipfile.ZipFile(out) as zf:
        for item in items:
            assert zf.read(f"heatmaps/{item.id}.png").startswith(b"\x89PNG")
        assert json.loads(zf.read("manifest.json"))["heatmaps"] == "included"
        assert "Case evidence package" in zf.read("summary.html").decode()
    assert main(["evidence", "verify", str(out), "--public-key", str(tmp_path / "k.pub")]) == 0


def test_export_lists_similar_confirmed_cases(
    store: Store, save_item, db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    known_fake = save_item(5, model_version="old-model")
    store.add_verdict(known_fake.id, "counterfeit", "ana")
    again = save_item(5, listing_id="L-again")  # the same photo, scored again elsewhere
    case = store.cases.create("repeat", [again.id], actor="ana")
    assert main(["evidence", "keygen", str(tmp_path / "k")]) == 0
    out = tmp_path / "case.zip"
    argv = ["evidence", "export", str(case.id), "--db", db_url, "--data-dir", str(data_dir)]
    assert main([*argv, "--out", str(out), "--key", str(tmp_path / "k.key")]) == 0
    with zipfile.ZipFile(out) as zf:
        record = json.loads(zf.read("case.json"))
    (entry,) = record["items"]
    assert [(m["item_id"], m["kind"]) for m in entry["similar_matches"]] == [
        (known_fake.id, "exact")
    ]
    assert record["similar_matches"] == "included"
