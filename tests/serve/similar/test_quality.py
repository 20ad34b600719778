"""Matching quality on transformed copies, with the real trained test model's embeddings.

The set: `counterscan.datasets.synth.generate(n=160, seed=5, scale=0.6)` (photos ~200-240 px;
2-5 photos per item, items of one brand share their label design: the hard negatives). The
references are the first photo of every counterfeit item (23); the queries are 10 copies of each
reference (evaluate.COPIES: JPEG q40, half and double size, 10% and 20% centred crops, 20% off
one side, 20% off two sides at a corner, an uneven crop, a text watermark with a sticker, all at
once: 230 copies) and every photo of the items that are not references (80, genuine products
of the same brands among them). A match is right when it points at the query's original or at
another photo of the same item; a copy is found when its original comes back as exact or
near_duplicate. Measured: precision 1.000, recall 1.000 (bench: seed 21, 400 photos at scale
1.0, 590 copies: precision 0.998, recall 0.998).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from counterscan.datasets.reader import read_dataset
from counterscan.datasets.synth import generate
from counterscan.images import decode_image, resize_to_square
from counterscan.serve.similar.evaluate import COPIES, Labelled, evaluate, make_copy


@pytest.fixture(scope="module")
def labelled_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, list]:
    root = tmp_path_factory.mktemp("synth")
    generate(root, 160, 5, progress=False, workers=1, scale=0.6)
    ds = read_dataset(root)
    items = [Labelled(s.rel, (root / s.rel).read_bytes(), s.group) for s in ds.samples]
    firsts: dict[str, Labelled] = {}
    for item, sample in zip(items, ds.samples, strict=True):
        if sample.label == "counterfeit":
            firsts.setdefault(sample.group, item)
    refs = list(firsts.values())
    rng = np.random.default_rng(5)
    queries = [
        Labelled(f"{r.item_id}:{kind}", make_copy(r.data, kind, rng), r.group, r.item_id)
        for r in refs
        for kind in COPIES
    ]
    queries += [i for i in items if i.group not in firsts]
    return refs, queries


def test_copies_are_found_and_other_products_are_not(
    labelled_set: tuple[list, list], onnx_model_path: Path
) -> None:
    from counterscan.serve.inference.model import Scorer, Threads

    scorer = Scorer.load(onnx_model_path, Threads(1))

    def embed(datas: list[bytes]) -> np.ndarray:
        size = scorer.input_size
        x = np.stack([resize_to_square(decode_image(d).rgb, size) for d in datas])
        return np.concatenate([scorer.score(x[i : i + 32]).embedding for i in range(0, len(x), 32)])

    refs, queries = labelled_set
    report = evaluate(refs, queries, embed=embed)
    assert report.copies == 10 * len(refs) and len(refs) >= 20
    assert report.precision >= 0.95, report.wrong[:5]
    assert report.recall >= 0.95, report.missed
