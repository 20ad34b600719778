"""`counterscan score --ray ADDRESS` against a real Ray cluster on this machine: a head node
and a second node, each its own `ray start` process with one CPU. The command runs as users
run it (a subprocess); its rows must equal the local path's for the same files, bad files
included, and both nodes must have scored some of them.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.net import free_port
from tests.helpers.photos import blobs, detailed_photo, encode
from tests.helpers.ray_cluster import HOST, RayCluster

pytest.importorskip("ray", reason="the extra `ray` (pip install -e '.[ray]'; `make test` has it)")

SCORE_TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    ray = RayCluster(object_store_bytes=100_000_000)
    try:
        ray.start_head(cpus=1)
        ray.add_node(cpus=1)
        yield ray
    finally:
        ray.stop()
    assert ray.own_pids() == [], "Ray processes of the test cluster survived its teardown"


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JPEG and PNG photos of several sizes and modes, a truncated JPEG, a text file named
    .jpg, in nested folders."""
    root = tmp_path_factory.mktemp("dump")
    (root / "shop" / "deep").mkdir(parents=True)
    for i in range(6):
        (root / "shop" / f"{i}.jpg").write_bytes(detailed_photo(seed=i, size=(240 + 8 * i, 200)))
    (root / "shop" / "deep" / "a.png").write_bytes(encode(blobs((120, 90), seed=7), "PNG"))
    (root / "shop" / "deep" / "grey.png").write_bytes(
        encode(blobs((80, 80), seed=8).convert("L"), "PNG")
    )
    whole = detailed_photo(seed=9)
    (root / "shop" / "cut.jpg").write_bytes(whole[: len(whole) // 3])
    (root / "shop" / "notes.jpg").write_text("a crawler saved an error page under a photo name")
    return root


def counterscan(
    *args: str, check: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "counterscan", *args],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, cwd=cwd,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise AssertionError(f"counterscan {args[0]} failed ({done.returncode}):\n{done.stderr}")
    return done


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as f:
        table = csv.DictReader(f)
        return list(table.fieldnames or []), list(table)


def test_ray_scores_equal_the_local_path_and_use_both_nodes(
    cluster: RayCluster, photos: Path, onnx_model_path: Path, tmp_path: Path
) -> None:
    """The folder is given relative to the command's directory, as users do: the actors (whose
    directory is another) still find the files, and the rows keep the paths as given."""
    local, remote, summary = tmp_path / "local.csv", tmp_path / "ray.csv", tmp_path / "ray.json"
    model, folder, here = str(onnx_model_path), photos.name, photos.parent
    counterscan("score", model, folder, "--out", str(local), "--threads", "1", cwd=here)
    counterscan("score", model, folder, "--out", str(remote), "--batch-size", "2",
                "--ray", cluster.address, "--json", str(summary), cwd=here)  # fmt: skip

    local_columns, local_rows = read_csv(local)
    ray_columns, ray_rows = read_csv(remote)
    assert ray_columns == local_columns
    assert [r["path"] for r in ray_rows] == [r["path"] for r in local_rows]  # same order
    assert len(ray_rows) == 10 and ray_rows[0]["path"] == str(Path(folder, "shop", "0.jpg"))
    for mine, theirs in zip(ray_rows, local_rows, strict=True):
        score_mine, score_theirs = mine.pop("score"), theirs.pop("score")
        assert mine == theirs  # ok, priority, hashes, sizes, error text
        if score_theirs:
            assert abs(float(score_mine) - float(score_theirs)) <= SCORE_TOLERANCE
        else:
            assert score_mine == ""
    errors = {Path(r["path"]).name: r["error"] for r in ray_rows if r["ok"] == "False"}
    assert set(errors) == {"cut.jpg", "notes.jpg"}
    assert all(errors.values())

    report = json.loads(summary.read_text())
    assert (report["images"], report["ok"], report["errors"]) == (10, 8, 2)
    nodes = report["ray"]["nodes"]
    assert report["ray"]["actors"] == 2
    assert len(nodes) == 2, f"one node did all the work: {nodes}"
    assert sum(n["images"] for n in nodes.values()) == 10
    assert sum(n["batches"] for n in nodes.values()) == 5
    assert all(n["images"] > 0 and n["busy_seconds"] > 0 for n in nodes.values())


def test_jsonl_rows_are_the_local_paths(
    cluster: RayCluster, photos: Path, onnx_model_path: Path, tmp_path: Path
) -> None:
    """JSON lines keep the types (numbers, booleans, nulls) the local path writes."""
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    one = str(photos / "shop" / "3.jpg")
    bad = str(photos / "shop" / "notes.jpg")
    model = str(onnx_model_path)
    counterscan("score", model, one, bad, "--out", str(local), "--threads", "1")
    counterscan("score", model, one, bad, "--out", str(remote), "--ray", cluster.address,
                "--ray-actors", "1")  # fmt: skip
    mine = [json.loads(line) for line in remote.read_text().splitlines()]
    theirs = [json.loads(line) for line in local.read_text().splitlines()]
    assert [list(r) for r in mine] == [list(r) for r in theirs]
    assert mine[0].pop("score") == pytest.approx(theirs[0].pop("score"), abs=SCORE_TOLERANCE)
    assert mine == theirs
    assert mine[1]["ok"] is False and mine[1]["score"] is None


def test_actors_that_do_not_fit_are_a_one_line_error(
    cluster: RayCluster, photos: Path, onnx_model_path: Path
) -> None:
    """Two CPUs in all, but one per node: an actor of two threads fits nowhere."""
    done = counterscan("score", str(onnx_model_path), str(photos), "--threads", "2",
                       "--ray", cluster.address, check=False)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"counterscan score: error: actors of 2 thread(s) each do not fit on the Ray cluster at "
        f"{cluster.address}: its nodes have 1, 1 CPUs"
    )


def test_unreachable_cluster_is_a_one_line_error(onnx_model_path: Path, photos: Path) -> None:
    done = counterscan("score", str(onnx_model_path), str(photos),
                       "--ray", f"{HOST}:{free_port()}", check=False)  # fmt: skip
    assert done.returncode == 2
    assert "cannot connect to the Ray cluster" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_ray_the_error_names_the_extra(
    onnx_model_path: Path, photos: Path, tmp_path: Path
) -> None:
    """As on a `make run` install: `import ray` fails; the local path never imports it."""
    out = str(tmp_path / "local.csv")
    code = (
        "import sys; sys.modules['ray'] = None\n"  # `import ray` now raises ImportError
        "from counterscan.cli import main\n"
        f"rc = main(['score', {str(onnx_model_path)!r}, {str(photos)!r}, '--out', {out!r}])\n"
        "assert rc == 0, rc\n"
        f"sys.exit(main(['score', {str(onnx_model_path)!r}, {str(photos)!r}, '--ray', 'auto']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        "counterscan score: error: --ray needs the optional extra `ray`: "
        "pip install 'counterscan[ray]'"
    )


def test_ray_actors_needs_ray(onnx_model_path: Path, photos: Path) -> None:
    done = counterscan("score", str(onnx_model_path), str(photos), "--ray-actors", "2",
                       check=False)  # fmt: skip
    assert done.returncode == 2 and "--ray-actors needs --ray ADDRESS" in done.stderr
