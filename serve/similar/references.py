"""A set of reviewed photos to match against: the confirmed counterfeits, or the known genuine.

Per photo: its sha256 (exact copies), its fingerprint with the two coarse views and the colour
histogram that near-duplicate matching needs (align.py), and its embedding (`VectorIndex`, exact
or approximate). Rows live in numpy arrays so a query compares against all of them in one
matrix product; removal moves the last row into the hole. Thread-safe: one lock per set.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from counterscan.serve.similar import align
from counterscan.serve.similar.fingerprint import HIST_BINS, Fingerprint
from counterscan.serve.similar.index import ANN_FROM, VectorIndex

_VIEW_DIM = align.COARSE * align.COARSE


@dataclass(frozen=True)
class Photo:
    """What matching knows of one stored photo (a reference, or a query)."""

    item_id: str
    sha256: str
    fingerprint: Fingerprint | None  # None: scored before fingerprints were kept
    embedding: np.ndarray | None  # (D,) float32, L2-normalised; None if the model gave none


class ReferenceSet:
    def __init__(self, verdict: str, *, ann_from: int = ANN_FROM) -> None:
        self.verdict = verdict  # "counterfeit" | "genuine": what every member was judged
        self.ann_from = ann_from
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._sha: dict[str, set[str]] = {}
        self._shas: list[str] = []
        self._fps: list[Fingerprint | None] = []
        self._hist = np.zeros((0, HIST_BINS), dtype=np.float32)  # (N, 64); 0 rows: no fp
        self._views = np.zeros((0, 2, _VIEW_DIM), dtype=np.float32)  # (N, 2, 144)
        self._embeddings: VectorIndex | None = None

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._row

    def add(self, photo: Photo) -> None:
        views = None if photo.fingerprint is None else align.reference_views(photo.fingerprint)
        with self._lock:
            self._remove(photo.item_id)
            n = len(self._ids)
            if n == len(self._hist):
                self._grow(max(64, 2 * n))
            if photo.fingerprint is not None and views is not None:
                self._hist[n] = photo.fingerprint.hist
                self._views[n] = views
            else:  # zero rows never pass the histogram test
                self._hist[n] = 0.0
                self._views[n] = 0.0
            self._ids.append(photo.item_id)
            self._row[photo.item_id] = n
            self._shas.append(photo.sha256)
            self._fps.append(photo.fingerprint)
            self._sha.setdefault(photo.sha256, set()).add(photo.item_id)
            if photo.embedding is not None:
                if self._embeddings is None:
                    self._embeddings = VectorIndex(len(photo.embedding), ann_from=self.ann_from)
                if len(photo.embedding) == self._embeddings.dim:  # another model's: skipped
                    self._embeddings.add(photo.item_id, photo.embedding)

    def remove(self, item_id: str) -> None:
        with self._lock:
            self._remove(item_id)

    def _remove(self, item_id: str) -> None:
        row = self._row.pop(item_id, None)
        if row is None:
            return
        same = self._sha.get(self._shas[row], set())
        same.discard(item_id)
        if not same:
            self._sha.pop(self._shas[row], None)
        last = len(self._ids) - 1
        if row != last:
            for column in (self._ids, self._shas, self._fps):
                column[row] = column[last]
            self._hist[row], self._views[row] = self._hist[last], self._views[last]
            self._row[self._ids[row]] = row
        for column in (self._ids, self._shas, self._fps):
            column.pop()
        if self._embeddings is not None:
            self._embeddings.remove(item_id)

    def _grow(self, capacity: int) -> None:
        n = len(self._ids)
        hist = np.zeros((capacity, HIST_BINS), dtype=np.float32)
        views = np.zeros((capacity, 2, _VIEW_DIM), dtype=np.float32)
        hist[:n], views[:n] = self._hist[:n], self._views[:n]
        self._hist, self._views = hist, views

    # ------------------------------------------------------------------ queries

    def same_bytes(self, sha256: str) -> list[str]:
        with self._lock:
            return sorted(self._sha.get(sha256, ()))

    def colour_candidates(
        self, hist: np.ndarray, threshold: float, limit: int
    ) -> list[tuple[str, float, np.ndarray, Fingerprint]]:
        """Members whose colour histogram is at least `threshold` alike (a necessary condition
        of a near-duplicate), the `limit` most alike: (id, similarity, views, fingerprint)."""
        with self._lock:
            n = len(self._ids)
            if n == 0:
                return []
            sims = self._hist[:n] @ hist  # (N,)
            hits = np.flatnonzero(sims >= threshold)
            if len(hits) > limit:
                hits = hits[np.argpartition(-sims[hits], limit - 1)[:limit]]
            out = []
            for i in hits:
                fp = self._fps[i]
                if fp is not None:
                    out.append((self._ids[i], float(sims[i]), self._views[i].copy(), fp))
            return out

    def nearest(self, embedding: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k members with the most similar embeddings: (id, cosine), best first."""
        with self._lock:
            index = self._embeddings
            if index is None or len(embedding) != index.dim:
                return []
            return index.search(embedding, k)

    @property
    def approximate(self) -> bool:
        return self._embeddings is not None and self._embeddings.approximate
