"""The synthetic generator: deterministic bytes, a readable balanced manifest with groups, every
kind of goods, decodable JPEGs, real defects on counterfeits, and no global cue on `hard`."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from counterscan.datasets.reader import read_dataset
from counterscan.datasets.synth import MANIFEST_COLUMNS, generate, plan_items
from counterscan.datasets.synth_defects import (
    DEFECTS,
    GLOBAL_DEFECTS,
    make_counterfeit,
    obvious_misspellings,
    subtle_misspellings,
)
from counterscan.datasets.synth_products import BRANDS, KIND_BY_NAME, KINDS, genuine_design
from counterscan.errors import CounterscanError
from counterscan.images import decode_image


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    kwargs = {"progress": False, "scale": 0.4}
    generate(tmp_path / "a", 30, 5, "medium", workers=1, **kwargs)
    generate(tmp_path / "b", 30, 5, "medium", workers=2, **kwargs)
    generate(tmp_path / "c", 30, 6, "medium", workers=1, **kwargs)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert len(a) == 31  # 30 photos + manifest
    assert a == b
    differing = [name for name in a if name in c and a[name] != c[name]]
    assert len(differing) >= len(a) // 2


def test_manifest_is_balanced_grouped_and_covers_every_kind(tmp_path: Path) -> None:
    summary = generate(tmp_path / "d", 90, 1, "medium", progress=False, scale=0.3)
    assert summary["labels"] == {"genuine": 45, "counterfeit": 45}
    header = (tmp_path / "d" / "manifest.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == list(MANIFEST_COLUMNS)

    dataset = read_dataset(tmp_path / "d")
    assert dataset.extra_columns == ["kind", "brand", "defects"]
    assert dataset.label_counts() == {"genuine": 45, "counterfeit": 45}
    groups: dict[str, list] = defaultdict(list)
    for s in dataset.samples:
        groups[s.group].append(s)
        assert s.rel.startswith(f"{s.label}/")
        assert bool(s.extra["defects"]) == (s.label == "counterfeit")
    assert summary["groups"] == len(groups)
    assert all(len({s.label for s in g}) == 1 for g in groups.values())
    assert all(len({s.extra["defects"] for s in g}) == 1 for g in groups.values())  # one item
    sizes = Counter(len(g) for g in groups.values())
    assert min(sizes) >= 2 and max(sizes) <= 6
    for label in ("genuine", "counterfeit"):
        kinds = {s.extra["kind"] for s in dataset.samples if s.label == label}
        assert kinds == {k.name for k in KINDS}


def test_photos_decode_as_listing_sized_jpegs(tmp_path: Path) -> None:
    generate(tmp_path / "e", 8, 2, "easy", progress=False, workers=1)
    for sample in read_dataset(tmp_path / "e").samples:
        decoded = decode_image(sample.path.read_bytes())
        assert decoded.format == "JPEG"
        assert all(320 <= side <= 400 for side in decoded.original_size)
        assert decoded.rgb.std() > 10  # a picture, not a flat colour


def test_plan_fills_exactly_n_with_groups_of_two_or_more() -> None:
    for n in (2, 3, 7, 101, 1000):
        plan = plan_items(n, seed=3)
        assert sum(p.photos for p in plan) == n
        assert sum(p.photos for p in plan if p.label == "counterfeit") == round(n / 2)
        assert n < 4 or min(p.photos for p in plan) >= 2


def test_misspellings_are_look_alikes_or_obvious_typos() -> None:
    subtle = subtle_misspellings("Mầm Xanh")
    assert "Mâm Xanh" in subtle  # tone mark dropped
    assert "Mầm Xanh" not in subtle
    assert "Arnpero" in subtle_misspellings("Ampero")  # rn for m
    assert "Lumi0ra" in subtle_misspellings("Lumiora")  # 0 for o
    obvious = obvious_misspellings("Sản xuất tại Việt Nam")
    assert "San xuat tai Viet Nam" in obvious
    assert "Voltxi" not in obvious_misspellings("Voltix")  # the last letter stays put
    assert "Vlotix" in obvious_misspellings("Voltix")


@pytest.mark.parametrize("level", ["easy", "medium", "hard"])
def test_counterfeits_carry_product_defects(level: str) -> None:
    counts = []
    for i, brand in enumerate(BRANDS * 3):
        rng = np.random.default_rng(i)
        genuine = genuine_design(KIND_BY_NAME[brand.kind], brand, np.random.default_rng(i))
        fake = make_counterfeit(genuine_design(KIND_BY_NAME[brand.kind], brand, rng), rng, level)
        assert fake.defects and set(fake.defects) <= set(DEFECTS)
        if level == "hard":
            assert not set(fake.defects) & set(GLOBAL_DEFECTS)
        if "misspelt_brand" in fake.defects:
            assert fake.brand_text != genuine.brand_text
        if "missing_hologram" in fake.defects:
            assert fake.hologram == "missing" and genuine.hologram == "genuine"
        counts.append(len(fake.defects))
    assert min(counts) >= {"easy": 2, "medium": 1, "hard": 1}[level]
    assert max(counts) <= {"easy": 3, "medium": 2, "hard": 2}[level]


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(CounterscanError, match="difficulty"):
        generate(tmp_path / "x", 10, 0, "extreme", progress=False)
    with pytest.raises(CounterscanError, match="--n"):
        generate(tmp_path / "x", 1, 0, progress=False)
    with pytest.raises(CounterscanError, match="--seed"):
        generate(tmp_path / "x", 10, -1, progress=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(CounterscanError, match="not empty"):
        generate(tmp_path / "full", 10, 0, progress=False)
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


# --- On hard, global image statistics must not separate the classes. -------------------------


def rank_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve from ranks (Mann-Whitney U), ties counted as half."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def test_rank_auc() -> None:
    y = np.array([False, False, True, True])
    assert rank_auc(np.array([0.1, 0.2, 0.3, 0.4]), y) == 1.0
    assert rank_auc(np.array([0.4, 0.3, 0.2, 0.1]), y) == 0.0
    assert rank_auc(np.array([1.0, 1.0, 1.0, 1.0]), y) == 0.5


def _global_stats(data: bytes) -> list[float]:
    """Mean colour, contrast, sharpness (variance of the Laplacian), file size, pixel count."""
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32)  # (H, W, 3)
    g = rgb.mean(axis=2)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return [*rgb.mean(axis=(0, 1)), float(g.std()), float(lap.var()), len(data), g.size]


def _logistic_auc(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> float:
    """Fit a logistic regression on `train` rows by gradient descent, return AUC on the rest."""
    mu, sd = x[train].mean(axis=0), x[train].std(axis=0) + 1e-9
    z = np.c_[(x - mu) / sd, np.ones(len(x))]
    w = np.zeros(z.shape[1])
    for _ in range(500):
        p = 1 / (1 + np.exp(-z[train] @ w))
        w -= 0.5 * (z[train].T @ (p - y[train]) / train.sum() + 1e-2 * w)
    return rank_auc(z[~train] @ w, y[~train].astype(bool))


def test_hard_has_no_global_cue(tmp_path: Path) -> None:
    generate(tmp_path / "h", 240, 11, "hard", progress=False, scale=0.5)
    samples = read_dataset(tmp_path / "h").samples
    x = np.array([_global_stats(s.path.read_bytes()) for s in samples])
    y = np.array([s.target for s in samples])
    for column in range(x.shape[1]):
        auc = rank_auc(x[:, column], y.astype(bool))
        assert max(auc, 1 - auc) < 0.65, f"statistic {column} separates the classes: AUC {auc:.2f}"
    items = np.array([int(s.group.split("-")[1]) for s in samples])
    train = (items // 2) % 2 == 0  # by item, both classes on both sides
    auc = _logistic_auc(x, y, train)
    assert 0.35 < auc < 0.65, f"a logistic regression on global statistics reaches AUC {auc:.2f}"
