"""Several servers share one evidence store (issue 18, deploy/README.md): two real
`counterscan serve` processes on one PostgreSQL database and one data folder, scoring at once,
the same photos through both (both write the same evidence file at the same moment) and others
through one. Every acknowledged item's original is readable through either server, byte for
byte (SHA-256), with its thumbnail; no temporary file is left behind. And the race that
scoring rarely hits, forced: processes rewriting one file at the same moment, many times."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from counterscan.serve.storage.evidence import EvidenceFiles
from tests.helpers.photos import detailed_photo

SAME_PHOTOS = 12  # each sent to both servers at once
OWN_PHOTOS = 8  # each sent to one server only


def test_two_servers_share_the_evidence_folder(
    start_server: Callable[..., Any], rel_keys: dict[str, str], pg_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "shared-store"
    a, b = (start_server(db=pg_url, data_dir=folder) for _ in range(2))
    photos = {seed: detailed_photo(seed, (320, 240)) for seed in range(200, 200 + SAME_PHOTOS)}
    own = {seed: detailed_photo(seed, (320, 240)) for seed in range(300, 300 + OWN_PHOTOS)}
    jobs = [(s, seed) for seed in photos for s in (a, b)]
    jobs += [((a, b)[seed % 2], seed) for seed in own]
    random.Random(0).shuffle(jobs)
    every = photos | own

    def send(job: tuple[Any, int]) -> tuple[int, dict[str, Any]]:
        server, seed = job
        with server.client(rel_keys["crawler"]) as http:
            r = http.post(
                "/v1/score",
                files={"image": (f"{seed}.jpg", every[seed], "image/jpeg")},
                data={"listing_id": f"L{seed}", "source": "shared"},
            )
        assert r.status_code == 200, r.text
        return seed, r.json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, jobs))

    ids: dict[int, set[str]] = {}
    for seed, body in answers:
        ids.setdefault(seed, set()).add(body["id"])
        assert body["sha256"] == hashlib.sha256(every[seed]).hexdigest()
    assert all(len(found) == 1 for found in ids.values()), ids  # one item per photo
    for server in (a, b):
        with server.client(rel_keys["inspector"]) as http:
            for seed, found in ids.items():
                item_id = next(iter(found))
                original = http.get(f"/v1/items/{item_id}/image")
                assert original.status_code == 200, (server.url, original.text)
                assert original.content == every[seed]
                assert (
                    hashlib.sha256(original.content).hexdigest()
                    == http.get(f"/v1/items/{item_id}").json()["sha256"]
                )
                thumb = http.get(f"/v1/items/{item_id}/thumbnail")
                assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
    stored = [p for p in (folder / "evidence").rglob("*") if p.is_file()]
    assert sorted(p.name for p in stored) == sorted(
        hashlib.sha256(data).hexdigest() for data in every.values()
    )
    assert not [p for p in folder.rglob("*.tmp")], "temporary files left in the shared folder"
    assert all(s.alive() for s in (a, b))
    for s in (a, b):
        assert httpx.get(f"{s.url}/readyz", timeout=10).status_code == 200


def _rewrite(folder: Path, data: bytes, sha256: str, times: int) -> int:
    files = EvidenceFiles(folder)
    for _ in range(times):
        files.make_thumbnail(sha256, data)  # always writes (put skips a file already there)
    return times


def test_processes_writing_one_file_at_once_never_fail_or_leave_parts(tmp_path: Path) -> None:
    data = detailed_photo(7)
    sha256 = hashlib.sha256(data).hexdigest()
    files = EvidenceFiles(tmp_path)
    files.create_dirs()
    files.put(data, sha256)
    with ProcessPoolExecutor(4) as pool:
        done = list(pool.map(_rewrite, *zip(*[(tmp_path, data, sha256, 150)] * 4, strict=True)))
    assert done == [150] * 4
    thumb = files.thumbnail_path(sha256).read_bytes()
    assert thumb[:2] == b"\xff\xd8" and thumb.endswith(b"\xff\xd9")
    assert not list(tmp_path.rglob("*.tmp"))
