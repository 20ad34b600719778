"""How deep evidence files are made durable: an original is fsynced before it is renamed into
place and its folder after, a whole request's originals in one pass; thumbnails, which are
made again from the original whenever they are missing, are never fsynced."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from counterscan.hashing import sha256_bytes
from counterscan.serve.storage import evidence
from counterscan.serve.storage.evidence import EvidenceFiles


class Calls:
    """The real os.fsync and os.replace, each call noted in order (path of the descriptor)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log: list[tuple[str, Path]] = []
        self.lock = threading.Lock()
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd: int) -> None:
            real_fsync(fd)
            with self.lock:
                self.log.append(("fsync", Path(os.readlink(f"/proc/self/fd/{fd}"))))

        def replace(src: Path, dst: Path) -> None:
            real_replace(src, dst)
            with self.lock:
                self.log.append(("replace", Path(dst)))

        monkeypatch.setattr(evidence.os, "fsync", fsync)
        monkeypatch.setattr(evidence.os, "replace", replace)

    def index(self, kind: str, path: Path) -> int:
        return self.log.index((kind, path))


def test_put_many_makes_every_original_durable_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = EvidenceFiles(tmp_path / "data")
    files.create_dirs()
    images = [(f"photo {i}".encode() * 100, "") for i in range(5)]
    images = [(data, sha256_bytes(data)) for data, _ in images]
    calls = Calls(monkeypatch)
    paths = files.put_many(images)
    assert [p.read_bytes() for p in paths] == [data for data, _ in images]
    synced = [path for kind, path in calls.log if kind == "fsync"]
    for path in paths:
        # The file's data before its name: its temporary file was fsynced before the rename.
        tmp_syncs = [
            i
            for i, (kind, p) in enumerate(calls.log)
            if kind == "fsync" and p.parent == path.parent and p.name.startswith(f".{path.name}.")
        ]
        assert len(tmp_syncs) == 1 and tmp_syncs[0] < calls.index("replace", path)
        # Its name after: the folder (new, like its parent) fsynced after the rename.
        assert calls.index("fsync", path.parent) > calls.index("replace", path)
        assert path.parent.parent in synced and path.parent.parent.parent in synced
    # One pass: every file is fsynced before the first rename, each folder once.
    first_replace = min(calls.index("replace", p) for p in paths)
    assert all(kind == "fsync" for kind, _ in calls.log[:first_replace])
    assert len(synced) == len(set(synced))
    calls.log.clear()
    assert files.put_many(images) == paths  # already there: nothing written again
    assert calls.log == []


def test_thumbnails_are_written_whole_but_never_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = EvidenceFiles(tmp_path / "data")
    files.create_dirs()
    sha = sha256_bytes(b"x")
    calls = Calls(monkeypatch)
    path = files.put_thumbnail(sha, b"jpeg bytes")
    assert path.read_bytes() == b"jpeg bytes"
    assert calls.log == [("replace", path)]  # atomic, not synced
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
