"""Reviewed items -> a training dataset: the loop from inspectors back to the model.

    OUT/manifest.csv   path,label,group,listing_id,source,url,sha256,phash,verdict,inspector,
                       verdict_at,item_id,model_version,score
    OUT/images/<sha256>.<ext>   copies of the evidence, byte for byte

`label` is the outcome of a closed case the item is in, when there is one (the strongest label:
an inspection found a violation of kind counterfeit_goods or ip_infringement -> counterfeit;
no violation -> genuine; `label_source` says "case" and `case_id` names it), else the current
verdict (counterfeit or genuine; `label_source` "verdict"). `unsure` items are left out unless
`include_unsure` names the label to give them (the `verdict` column still says unsure). `group`
is the listing id (photos of one listing stay on one side of every split), or the sha256 when
the item has no listing id. One row per image: the same bytes scored by two model versions are
one sample, labelled by the most recent verdict. The result reads back with
`counterscan.datasets.reader.read_dataset` and trains with `counterscan train`.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from PIL import Image

from counterscan.dataset_format import LABELS, MANIFEST
from counterscan.errors import CounterscanError
from counterscan.formats import suffix_of
from counterscan.progress import progress_bar
from counterscan.serve.storage import ItemRecord, Store
from counterscan.serve.storage.case_records import CaseRecord
from counterscan.serve.storage.db import normalise_url
from counterscan.serve.storage.records import iso_utc

COLUMNS = [
    "path", "label", "group", "listing_id", "source", "url", "sha256", "phash", "verdict",
    "inspector", "verdict_at", "item_id", "model_version", "score", "label_source", "case_id",
]  # fmt: skip
UNSURE_CHOICES = ("no", *LABELS)


def export_verdicts(
    db_url: str, data_dir: Path, out_dir: Path, *, include_unsure: str = "no"
) -> dict[str, Any]:
    """Write the dataset; returns a summary (counts, paths) for people and for --json."""
    if include_unsure not in UNSURE_CHOICES:
        raise CounterscanError(
            f"--include-unsure must be one of {', '.join(UNSURE_CHOICES)}, not {include_unsure!r}"
        )
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    _check_sources(db_url, data_dir)
    _check_out(out_dir)

    with Store(db_url, data_dir) as store:
        wanted = LABELS if include_unsure == "no" else (*LABELS, "unsure")
        by_case = store.cases.closed_labels()
        plain = [i for i in store.reviewed_items(wanted) if i.id not in by_case]
        labelled = [store.get_item(i) for i in by_case]  # ordered by closing time
        reviewed = plain + [i for i in labelled if i is not None]  # cases come last: they win
        skipped_unsure = (
            0
            if include_unsure != "no"
            else sum(i.id not in by_case for i in store.reviewed_items(("unsure",)))
        )
        latest = _latest_per_image(reviewed)
        (out_dir / "images").mkdir(parents=True, exist_ok=True)
        rows, missing = [], 0
        for item in progress_bar(latest, desc="copying evidence", unit="img", file=sys.stderr):
            source = store.image_path(item)
            if not source.is_file():
                missing += 1
                continue
            rel = f"images/{item.sha256}.{_extension(source)}"
            shutil.copyfile(source, out_dir / rel)
            rows.append(_row(item, rel, include_unsure, by_case.get(item.id)))

    if not rows:
        raise CounterscanError(
            "no reviewed items with a counterfeit or genuine verdict (or case outcome) to export"
            + (f" ({missing} had their evidence file missing)" if missing else "")
        )
    manifest = _write_manifest(out_dir / MANIFEST, rows)
    labels = {label: sum(r["label"] == label for r in rows) for label in LABELS}
    return {
        "out": str(out_dir),
        "manifest": str(manifest),
        "samples": len(rows),
        "labels": labels,
        "groups": len({r["group"] for r in rows}),
        "skipped": {
            "unsure": skipped_unsure,
            "missing_image": missing,
            "duplicate_image": len(reviewed) - len(latest),
        },
        "both_classes": all(labels.values()),
    }


def _check_sources(db_url: str, data_dir: Path) -> None:
    """Exporting must never create an empty database or data folder by mistake."""
    url = normalise_url(db_url)
    if url.get_backend_name() == "sqlite":
        db_file = Path(url.database or "")
        if not url.database or url.database == ":memory:" or not db_file.is_file():
            raise CounterscanError(f"database file {db_file} does not exist")
    if not (data_dir / "evidence").is_dir():
        raise CounterscanError(f"{data_dir} has no evidence/ folder; pass the server's --data-dir")


def _check_out(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise CounterscanError(f"{out_dir} already exists and is not an empty folder")


def _latest_per_image(items: list[ItemRecord]) -> list[ItemRecord]:
    """One item per sha256: the one whose verdict came last (items arrive oldest verdict first)."""
    by_sha: dict[str, ItemRecord] = {}
    for item in items:
        by_sha.pop(item.sha256, None)  # re-insert: the dict keeps verdict order
        by_sha[item.sha256] = item
    return list(by_sha.values())


def _extension(path: Path) -> str:
    try:
        with Image.open(path) as img:
            return suffix_of(img.format).lstrip(".")
    except Exception:
        return "img"


def _row(
    item: ItemRecord, rel: str, include_unsure: str, case: tuple[str, CaseRecord] | None
) -> dict[str, str]:
    verdict = item.verdict
    if case is not None:
        label, record = case
        inspector = record.inspector or record.created_by
        at = record.closed_at or record.updated_at
    else:
        assert verdict is not None
        label = include_unsure if verdict.verdict == "unsure" else verdict.verdict
        inspector, at = verdict.inspector, verdict.created_at
    return {
        "path": rel,
        "label": label,
        "group": _clean(item.listing_id) or item.sha256,
        "listing_id": _clean(item.listing_id),
        "source": _clean(item.source),
        "url": _clean(item.url),
        "sha256": item.sha256,
        "phash": item.phash,
        "verdict": verdict.verdict if verdict else "",
        "inspector": _clean(inspector),
        "verdict_at": iso_utc(at),
        "item_id": item.id,
        "model_version": _clean(item.model_version),
        "score": f"{item.score:.6f}",
        "label_source": "case" if case else "verdict",
        "case_id": str(case[1].id) if case else "",
    }


def _clean(value: str | None) -> str:
    """One line of text: the manifest reader splits on line breaks before parsing CSV."""
    return " ".join((value or "").split())


def _write_manifest(path: Path, rows: list[dict[str, str]]) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path
