"""A full data disk under a real `counterscan serve` process: a clear 503, not a crash.

The server runs in a mount namespace of its own where its data folder is a DISK_MB tmpfs: a user
namespace makes that possible unprivileged (where the kernel allows user namespaces) and as
root; a mount namespace alone covers root where they are switched off. Scoring fills the disk
until the evidence no longer fits; then each state has one expected answer: a verdict on a disk
with no byte left is a 503, and once an operator makes room the verdict and scoring work again
without a restart.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

DISK_MB = 4
MAX_VERDICTS_ON_FULL_DISK = 500  # far more than the WAL frames a 4 MB disk leaves to reuse
# A user + mount namespace mounts a tmpfs unprivileged (where user namespaces are allowed) and as
# root; a mount namespace alone covers root where user namespaces are switched off.
UNSHARE_WAYS = (["unshare", "--user", "--map-root-user", "--mount"], ["unshare", "--mount"])


def private_tmpfs(where: Path) -> tuple[list[str] | None, str]:
    """(the `unshare` command that can mount a private tmpfs on `where`, "") or (None, why not).
    Under `.ci/run` the test's skip with that reason is a failure (tests/conftest.py)."""
    if shutil.which("unshare") is None:
        return None, "cannot mount a private tmpfs: `unshare` (util-linux) is not installed"
    where.mkdir(parents=True, exist_ok=True)
    errors = []
    for way in UNSHARE_WAYS:
        probe = [*way, "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$0"', str(where)]
        done = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        if done.returncode == 0:
            return way, ""
        errors.append(f"`{' '.join(way)}`: {done.stderr.strip() or done.returncode}")
    return None, "cannot mount a private tmpfs for the full-disk test: " + "; ".join(errors)


def fill_up(folder: Path) -> int:
    """Write a filler file into `folder` until its filesystem has no byte left; its size."""
    written = 0
    with (folder / "filler").open("wb", buffering=0) as f:
        while True:
            try:
                written += f.write(b"\xff" * 4096)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                return written


def noise_jpeg(seed: int, side: int = 400) -> bytes:
    """A photo that does not compress (~100 KB): fills the disk quickly."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_full_data_disk_is_a_clear_503_not_a_crash(
    start_server: Any, tmp_path: Path, rel_keys: dict[str, str]
) -> None:
    disk = tmp_path / "disk"
    unshare, reason = private_tmpfs(disk)
    if unshare is None:
        pytest.skip(reason)
    # The server runs in its own mount namespace, where `disk` is a DISK_MB tmpfs holding the
    # database and the evidence; the test reaches the files through /proc/<pid>/root.
    mount = f'mount -t tmpfs -o size={DISK_MB}m tmpfs "$0" && exec "$@"'
    server = start_server(
        db=f"sqlite:///{disk / 'counterscan.db'}",
        data_dir=disk / "store",
        wrapper=[*unshare, "sh", "-c", mount, str(disk)],
    )
    inside = Path(f"/proc/{server.pid}/root") / disk.relative_to("/")
    http = server.client(rel_keys["inspector"])
    answers: list[int] = []
    first_item = None
    for seed in range(200):
        r = http.post("/v1/score", files={"image": ("n.jpg", noise_jpeg(seed))})
        answers.append(r.status_code)
        assert r.status_code in (200, 503), r.text  # stored, until the evidence does not fit
        if r.status_code == 200:
            first_item = first_item or r.json()["id"]
        if r.status_code == 503:
            said = r.json()["detail"]  # the evidence folder's words, or SQLite's
            assert "No space left on device" in said or "disk is full" in said, said
            if answers.count(503) >= 5:
                break
    assert 503 in answers, "the disk never filled up"
    assert first_item is not None, f"nothing was stored before the disk filled: {answers}"
    assert server.alive()
    # Reading still works.
    assert http.get("/healthz").status_code == 200
    assert http.get("/v1/queue").status_code == 200
    assert http.get(f"/v1/items/{first_item}/image").status_code == 200

    # Verdicts on a disk with no byte left: refused with a clear 503 as soon as a commit needs
    # new space, and none acknowledged is lost. SQLite appends each commit to its WAL, but after
    # a checkpoint it first rewrites the WAL's old frames in place, which needs no space; how
    # many such frames are left depends on when SQLite last checkpointed. So the test sends
    # verdicts until one is refused (the WAL on this DISK_MB disk holds at most a few hundred
    # frames, a verdict writes a few), then checks that exactly the acknowledged ones are kept.
    fill_up(inside)
    assert os.statvfs(inside).f_bavail == 0
    acknowledged = []
    for n in range(MAX_VERDICTS_ON_FULL_DISK):
        r = http.post(
            f"/v1/items/{first_item}/verdict", json={"verdict": "genuine", "note": f"f{n}"}
        )
        if r.status_code == 503:
            assert "disk is full" in r.json()["detail"], r.text
            break
        assert r.status_code == 200, r.text
        acknowledged.append(f"f{n}")
    else:
        pytest.fail(
            f"{MAX_VERDICTS_ON_FULL_DISK} verdicts acknowledged on a disk with no byte left"
        )
    kept = [v["note"] for v in http.get(f"/v1/items/{first_item}").json()["verdicts"]]
    assert kept == acknowledged  # every acknowledged verdict, and not the refused one

    # Make room (an operator deletes something): the verdict and scoring work again, no restart.
    (inside / "filler").unlink()
    evidence = inside / "store" / "evidence"
    victims = sorted(p for p in evidence.rglob("*") if p.is_file())[: len(answers) // 2]
    for path in victims:
        path.unlink()
    r = http.post(f"/v1/items/{first_item}/verdict", json={"verdict": "genuine", "note": "room"})
    assert r.status_code == 200, r.text
    assert http.get(f"/v1/items/{first_item}").json()["verdict"]["note"] == "room"
    r = http.post("/v1/score", files={"image": ("n.jpg", noise_jpeg(10_000))})
    assert r.status_code == 200, r.text
    http.close()
    print(
        f"full disk: {answers.count(200)} stored, then {answers.count(503)} clear 503s; "
        f"{len(acknowledged)} verdicts fitted in reused WAL frames before the first 503"
    )
