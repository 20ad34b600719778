"""What a labelled photo set looks like on disk (DESIGN.md, Datasets): the manifest's name, the
label and split names and the synonyms accepted for them. Read by `datasets.reader` and written
by the verdict export, so both sides agree on one format.
"""

from __future__ import annotations

MANIFEST = "manifest.csv"
LABELS = ("genuine", "counterfeit")  # index 1 is the positive class everywhere
LABEL_SYNONYMS = {
    "genuine": "genuine",
    "real": "genuine",
    "authentic": "genuine",
    "counterfeit": "counterfeit",
    "fake": "counterfeit",
}
SPLITS = ("train", "val", "test")
SPLIT_SYNONYMS = {
    "train": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
}
