"""The files of one training run (RUN_DIR) and how they are written.

best.pt          checkpoint of the best epoch (highest validation AP); after training it
                 also carries the temperature, thresholds and metrics the export needs
last.pt          checkpoint after the latest epoch, with optimizer state: `--resume` reads it
metrics.jsonl    one JSON line per finished epoch
split.csv        path,label,split,group: the exact split this run used
model.onnx       the exported model (the only thing serving needs)
model_card.md    what the model is, on what data, how good, and where it fails
summary.json     the run's summary (also printed, and written to --json when asked)
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from counterscan.datasets.reader import Sample


@dataclass(frozen=True)
class RunDir:
    root: Path

    @property
    def best(self) -> Path:
        return self.root / "best.pt"

    @property
    def last(self) -> Path:
        return self.root / "last.pt"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def split(self) -> Path:
        return self.root / "split.csv"

    @property
    def onnx(self) -> Path:
        return self.root / "model.onnx"

    @property
    def model_card(self) -> Path:
        return self.root / "model_card.md"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"


def split_rows(samples: list[Sample]) -> list[tuple[str, str, str, str]]:
    """(path, label, split, group) per photo, sorted: the canonical description of the data."""
    return sorted((s.rel, s.label, s.split, s.group) for s in samples)


def manifest_sha256(samples: list[Sample]) -> str:
    """sha256 of the sorted (path, label, split, group) rows, as CSV lines.

    Independent of the manifest's row order and formatting, and of whether the dataset came
    with a manifest at all: two runs on the same photos, labels and split get the same hash.
    """
    h = hashlib.sha256()
    for row in split_rows(samples):
        h.update((",".join(row) + "\n").encode("utf-8"))
    return h.hexdigest()


def write_split(path: Path, samples: list[Sample]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label", "split", "group"])
        writer.writerows(split_rows(samples))
    os.replace(tmp, path)


def read_split(path: Path) -> dict[str, str]:
    """path -> split, as written by `write_split`."""
    with path.open(newline="", encoding="utf-8") as f:
        return {row["path"]: row["split"] for row in csv.DictReader(f)}


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def keep_epochs(path: Path, last_epoch: int) -> None:
    """Drop lines of epochs after `last_epoch` (written by a run killed before its checkpoint)."""
    records = [r for r in read_jsonl(path) if r.get("epoch", 0) <= last_epoch]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    os.replace(tmp, path)


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
