"""Which files show the same photo: exact copies (same bytes) and near copies (`neardup`).

Both `data check` (to report leaks and label conflicts) and `data split` (to keep copies on one
side) need the same answer, so it is computed here once: a list of linked file pairs and the
clusters they form (union-find: a copy of a copy is in the same cluster).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from counterscan.datasets.fileinfo import FileInfo
from counterscan.datasets.neardup import NEAR_DUPLICATE_SIMILARITY, near_duplicate_pairs


@dataclass(frozen=True)
class CopyPair:
    i: int  # indices into the FileInfo list, i < j
    j: int
    exact: bool  # same bytes
    similarity: float  # 1.0 for exact copies


class UnionFind:
    """Disjoint sets over 0..n-1 with path halving."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # smallest index is the root: deterministic

    def clusters(self) -> list[list[int]]:
        """Sets with more than one member, each sorted, ordered by their smallest member."""
        members: dict[int, list[int]] = defaultdict(list)
        for x in range(len(self.parent)):
            members[self.find(x)].append(x)
        return [m for _, m in sorted(members.items()) if len(m) > 1]


def find_copies(
    infos: list[FileInfo],
    *,
    threshold: float = NEAR_DUPLICATE_SIMILARITY,
    workers: int = 1,
    progress: bool = True,
) -> list[CopyPair]:
    """Pairs of decodable files that show the same photo, exact ones first, each pair once.

    Exact copies are compared by sha256; near copies only between one representative of each
    set of identical files (no need to compare a file with its own copy).
    """
    by_digest: dict[str, list[int]] = defaultdict(list)
    for index, info in enumerate(infos):
        if info.ok and info.sha256:
            by_digest[info.sha256].append(index)
    pairs = [
        CopyPair(same[0], other, True, 1.0) for same in by_digest.values() for other in same[1:]
    ]
    representatives = [same[0] for same in by_digest.values()]
    near = near_duplicate_pairs(
        [infos[r].thumb for r in representatives],
        threshold=threshold,
        workers=workers,
        progress=progress,
    )
    for pair in near:
        i, j = sorted((representatives[pair.i], representatives[pair.j]))
        pairs.append(CopyPair(i, j, False, pair.similarity))
    return pairs


def copy_clusters(n: int, pairs: list[CopyPair]) -> list[list[int]]:
    """Clusters of file indices linked by `pairs` (only clusters of two or more)."""
    sets = UnionFind(n)
    for pair in pairs:
        sets.union(pair.i, pair.j)
    return sets.clusters()
