"""Matching units: alignment finds crops, the kinds, the index (exact and approximate)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from counterscan.images import decode_image
from counterscan.serve.similar import align
from counterscan.serve.similar.evaluate import COPIES, make_copy
from counterscan.serve.similar.fingerprint import BYTES, Fingerprint, fingerprint
from counterscan.serve.similar.index import VectorIndex
from counterscan.serve.similar.matching import match_photo
from counterscan.serve.similar.references import Photo, ReferenceSet
from tests.helpers.photos import detailed_photo


def photo(item_id: str, data: bytes, embedding: np.ndarray | None = None) -> Photo:
    import hashlib

    fp = fingerprint(decode_image(data).rgb)
    return Photo(item_id, hashlib.sha256(data).hexdigest(), fp, embedding)


def test_fingerprint_round_trips_through_bytes() -> None:
    fp = fingerprint(decode_image(detailed_photo(1)).rgb)
    data = fp.to_bytes()
    assert len(data) == BYTES
    back = Fingerprint.from_bytes(data)
    assert np.array_equal(back.grey, fp.grey)
    assert np.allclose(back.hist, fp.hist, atol=1e-3)
    with pytest.raises(ValueError, match="fingerprint"):
        Fingerprint.from_bytes(data[:-1])


def test_alignment_recovers_a_crop_box() -> None:
    original = detailed_photo(2)
    with Image.open(io.BytesIO(original)) as img:
        w, h = img.size
        cropped = img.crop((int(0.15 * w), 0, w, int(0.9 * h)))  # 15% off the left, 10% bottom
    q = fingerprint(np.asarray(cropped))
    r = fingerprint(decode_image(original).rgb)
    scores, boxes = align.coarse_scores(align.QueryViews.of(q), align.reference_views(r)[None])
    assert scores[0] > 0.9
    similarity, box = align.verify(q, r, boxes[0])
    assert similarity > 0.9
    assert box == pytest.approx((0.15, 0.0, 1.0, 0.9), abs=0.03)


def test_every_copy_kind_matches_and_other_photos_do_not() -> None:
    refs = ReferenceSet("counterfeit")
    for seed in range(6):
        refs.add(photo(f"ref{seed}", detailed_photo(seed)))
    rng = np.random.default_rng(0)
    for kind in COPIES:
        copy = make_copy(detailed_photo(3), kind, rng)
        found = match_photo(photo("q", copy), [refs])
        assert [m.item_id for m in found] == ["ref3"], kind
        assert found[0].kind == "near_duplicate" and found[0].verdict == "counterfeit"
    exact = match_photo(photo("q", detailed_photo(4)), [refs])
    assert [(m.item_id, m.kind) for m in exact] == [("ref4", "exact")]
    assert exact[0].to_api() == {
        "item_id": "ref4", "kind": "exact", "verdict": "counterfeit", "distance": 0,
    }  # fmt: skip
    for seed in range(100, 110):
        assert match_photo(photo("q", detailed_photo(seed)), [refs]) == []


def test_similar_needs_the_embedding_threshold_and_never_matches_itself() -> None:
    rng = np.random.default_rng(1)
    base = rng.standard_normal(16).astype(np.float32)
    base /= np.linalg.norm(base)
    near = base + 0.1 * rng.standard_normal(16).astype(np.float32)
    near /= np.linalg.norm(near)
    refs = ReferenceSet("genuine")
    refs.add(Photo("a", "a" * 64, None, base))
    cosine = float(near @ base)
    query = Photo("q", "b" * 64, None, near)
    from counterscan.serve.similar.matching import MatchConfig

    hit = match_photo(query, [refs], MatchConfig(similar=cosine - 0.01))
    assert [(m.item_id, m.kind, m.verdict) for m in hit] == [("a", "similar", "genuine")]
    assert match_photo(query, [refs], MatchConfig(similar=cosine + 0.01)) == []
    assert match_photo(Photo("a", "a" * 64, None, base), [refs]) == []  # itself


@pytest.mark.parametrize("approximate", [False, True])
def test_vector_index_add_replace_remove(approximate: bool) -> None:
    pytest.importorskip("faiss")
    rng = np.random.default_rng(2)
    vectors = rng.standard_normal((600, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(32, ann_from=500 if approximate else 10**9)
    for i, v in enumerate(vectors):
        index.add(str(i), v)
    assert index.approximate is approximate and len(index) == 600
    assert index.search(vectors[7], 3)[0] == ("7", pytest.approx(1.0, abs=1e-5))
    index.remove("7")
    assert "7" not in index and all(i != "7" for i, _ in index.search(vectors[7], 5))
    index.add("8", vectors[7])  # replaced: one entry, the new vector
    assert index.search(vectors[7], 1)[0][0] == "8"
    assert sum(i == "8" for i, _ in index.search(vectors[7], 10)) == 1
    assert len(index) == 599
