"""Nearest neighbours by cosine similarity over L2-normalised embeddings, exact or approximate.

`VectorIndex` answers exactly (one matrix-vector product) while it is small. Past `ann_from`
vectors (COUNTERSCAN_SIMILAR_ANN_FROM) exact search is memory-bound and slow, so it also keeps a
faiss inverted-file index (IVF, 8-bit scalar-quantised, retrained when the set has doubled) and
answers from that, with the similarities recomputed exactly. HNSW was dropped: slow to build, and
it cannot remove entries. Timings and recall: bench/README.md (bench/bench_similar.py).

faiss is imported only when an index grows past `ann_from` (a serving install without faiss
still works, exactly, and logs that it is slower).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ANN_FROM = 20_000  # vectors; below this exact search is fast enough (bench/README.md)
NPROBE = 32  # inverted lists scanned per query (of 4 sqrt(N)): recall vs time
TRAIN_SAMPLE = 30_000  # vectors the k-means clustering learns from


class VectorIndex:
    """Ids -> unit vectors; `search` gives the nearest by cosine. Not thread-safe: the owner
    (`ReferenceSet`) locks."""

    def __init__(self, dim: int, *, ann_from: int = ANN_FROM) -> None:
        self.dim = dim
        self.ann_from = ann_from
        self._vectors = np.zeros((0, dim), dtype=np.float32)  # (N, D), grows by doubling
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._ann: Any = None  # faiss index (ids are int64 keys), or None: exact only
        self._ann_size = 0  # vectors when the index was trained
        self._keys: dict[str, int] = {}
        self._by_key: dict[int, str] = {}
        self._next_key = 0

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._row

    @property
    def approximate(self) -> bool:
        return self._ann is not None

    def add(self, item_id: str, vector: np.ndarray) -> None:
        """Add or replace the vector of `item_id`."""
        vec = np.asarray(vector, dtype=np.float32).reshape(self.dim)
        if item_id in self._row:
            self.remove(item_id)
        n = len(self._ids)
        if n == len(self._vectors):  # full: double the capacity
            grown = np.zeros((max(64, 2 * n), self.dim), dtype=np.float32)
            grown[:n] = self._vectors[:n]
            self._vectors = grown
        self._vectors[n] = vec
        self._ids.append(item_id)
        self._row[item_id] = n
        if self._ann is not None:
            self._ann_add(item_id, vec)
        elif n + 1 >= self.ann_from:
            self._build_ann()

    def remove(self, item_id: str) -> None:
        row = self._row.pop(item_id, None)
        if row is None:
            return
        last = len(self._ids) - 1
        if row != last:  # move the last row into the hole
            moved = self._ids[last]
            self._vectors[row] = self._vectors[last]
            self._ids[row] = moved
            self._row[moved] = row
        self._ids.pop()
        if self._ann is not None:
            self._ann_remove(item_id)

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k nearest ids with their cosine similarity, best first."""
        n = len(self._ids)
        if n == 0 or k <= 0:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(self.dim)
        if self._ann is not None:
            return self._search_ann(q, k)
        sims = self._vectors[:n] @ q  # (N,)
        k = min(k, n)
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top])]
        return [(self._ids[i], float(sims[i])) for i in top]

    def vector(self, item_id: str) -> np.ndarray | None:
        row = self._row.get(item_id)
        return None if row is None else self._vectors[row].copy()

    # ------------------------------------------------------------------ approximate

    def _build_ann(self) -> None:
        try:
            import faiss
        except ImportError:
            log.warning(
                "faiss is not installed: similar-case search stays exact over %d vectors "
                "(slower; pip install faiss-cpu)",
                len(self._ids),
            )
            self.ann_from = 1 << 62
            return
        n = len(self._ids)
        nlist = max(16, int(4 * np.sqrt(n)))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, self.dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        rng = np.random.default_rng(0)
        sample = self._vectors[rng.choice(n, min(n, TRAIN_SAMPLE), replace=False)]
        index.train(sample)  # k-means centroids and each component's 8-bit range
        index.nprobe = NPROBE
        self._keys = {item_id: key for key, item_id in enumerate(self._ids)}
        self._by_key = dict(enumerate(self._ids))
        self._next_key = n
        index.add_with_ids(self._vectors[:n], np.arange(n, dtype=np.int64))
        self._ann, self._ann_size = index, n
        log.info("similar cases: approximate (IVF, %d lists) index over %d vectors", nlist, n)

    def _ann_add(self, item_id: str, vec: np.ndarray) -> None:
        key = self._next_key
        self._next_key += 1
        self._keys[item_id], self._by_key[key] = key, item_id
        self._ann.add_with_ids(vec[None, :], np.array([key], dtype=np.int64))
        if len(self._ids) >= 2 * self._ann_size:  # grown a lot: retrain the lists
            self._build_ann()

    def _ann_remove(self, item_id: str) -> None:
        import faiss

        key = self._keys.pop(item_id)
        self._by_key.pop(key, None)
        self._ann.remove_ids(faiss.IDSelectorBatch(np.array([key], dtype=np.int64)))

    def _search_ann(self, q: np.ndarray, k: int) -> list[tuple[str, float]]:
        _, keys = self._ann.search(q[None, :], k)
        out = []
        for key in keys[0]:
            item_id = self._by_key.get(int(key))
            if item_id is not None:
                # exact cosine from the float32 copy: the 8-bit one only ranks
                out.append((item_id, float(self._vectors[self._row[item_id]] @ q)))
        out.sort(key=lambda pair: -pair[1])
        return out
