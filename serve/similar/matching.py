"""Match one photo against the reviewed photos: exact copies, near-duplicates, similar photos.

    exact           the same bytes (sha256)
    near_duplicate  the same photo resized, re-encoded, cropped (up to 20% of each axis) or with
                    an overlay: colour histograms at least COLOUR alike, then aligned (align.py)
                    with a high-pass correlation of at least NEAR_DUPLICATE
    similar         another photo of the same product: model embeddings with a cosine of at
                    least SIMILAR

The thresholds sit halfway into the gaps that bench/bench_similar.py measured between copies
and photos of other items (bench/README.md); neither test alone separates them, and
tests/serve/similar/test_quality.py checks them again on a fresh set. SIMILAR depends on the
model (precision first: a similar match raises the priority): measure it again for a new model
(bench/bench_similar.py --model) and set COUNTERSCAN_SIMILAR_THRESHOLD.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from counterscan.serve.similar import align
from counterscan.serve.similar.references import Photo, ReferenceSet

KINDS = ("exact", "near_duplicate", "similar")  # strongest first
COLOUR = 0.91
NEAR_DUPLICATE = 0.74
SIMILAR = 0.92
COARSE_FLOOR = 0.75  # coarse alignment below which a candidate is not verified (copies >= 0.81)


@dataclass(frozen=True)
class MatchConfig:
    colour: float = COLOUR
    near_duplicate: float = NEAR_DUPLICATE
    similar: float = SIMILAR
    coarse_floor: float = COARSE_FLOOR
    candidates: int = 64  # most colour-alike references aligned coarsely
    verify: int = 4  # best coarse alignments verified exactly
    neighbours: int = 10  # nearest embeddings looked at
    max_matches: int = 10


@dataclass(frozen=True)
class Match:
    item_id: str
    kind: str  # "exact" | "near_duplicate" | "similar"
    verdict: str  # the reference's current verdict: "counterfeit" | "genuine"
    similarity: float  # 1.0 exact; aligned correlation; embedding cosine

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"item_id": self.item_id, "kind": self.kind, "verdict": self.verdict}
        if self.kind == "exact":
            out["distance"] = 0
        else:
            out["similarity"] = round(self.similarity, 4)
        return out


def match_photo(
    photo: Photo, sets: list[ReferenceSet], config: MatchConfig | None = None
) -> list[Match]:
    """Matches of `photo` in every set (never the photo's own item), strongest first."""
    config = config or MatchConfig()
    views: align.QueryViews | None = None  # made on the first set that has candidates
    found: dict[str, Match] = {}
    for refs in sets:
        for item_id in refs.same_bytes(photo.sha256):
            found[item_id] = Match(item_id, "exact", refs.verdict, 1.0)
        if photo.fingerprint is not None:
            candidates = [
                c
                for c in refs.colour_candidates(
                    photo.fingerprint.hist, config.colour, config.candidates
                )
                if c[0] not in found and c[0] != photo.item_id
            ]
            if candidates:
                views = views or align.QueryViews.of(photo.fingerprint)
                for item_id, sim in _near_duplicates(photo, views, candidates, config):
                    found[item_id] = Match(item_id, "near_duplicate", refs.verdict, sim)
        if photo.embedding is not None:
            for item_id, cosine in refs.nearest(photo.embedding, config.neighbours + 1):
                if cosine >= config.similar and item_id not in found:
                    found[item_id] = Match(item_id, "similar", refs.verdict, cosine)
    found.pop(photo.item_id, None)
    ranked = sorted(found.values(), key=lambda m: (KINDS.index(m.kind), -m.similarity, m.item_id))
    return ranked[: config.max_matches]


def _near_duplicates(
    photo: Photo,
    views: align.QueryViews,
    candidates: list[tuple[str, float, np.ndarray, Any]],
    config: MatchConfig,
) -> list[tuple[str, float]]:
    assert photo.fingerprint is not None
    stacked = np.stack([c[2] for c in candidates])  # (M, 2, 144)
    scores, boxes = align.coarse_scores(views, stacked)
    out = []
    for m in np.argsort(-scores)[: config.verify]:
        if scores[m] < config.coarse_floor:
            break
        item_id, _, _, ref_fp = candidates[m]
        aligned, _ = align.verify(photo.fingerprint, ref_fp, boxes[m])
        if aligned >= config.near_duplicate:
            out.append((item_id, aligned))
    return out
