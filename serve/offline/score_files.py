"""`counterscan score`: offline bulk scoring of files and folders (crawler dumps).

Same preprocessing as the service (`pipeline.prepare.prepare`). Locally, decoding runs in a
thread pool one batch ahead of the model, so the cores stay busy with both; with `--ray` the
same per-file and per-batch functions (`score_rows.py`) run on a Ray cluster (`score_ray.py`).
One row per file, in a stable order (sorted paths); a file that cannot be read or decoded gets
its error in its row.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from counterscan.errors import CounterscanError
from counterscan.formats import IMAGE_SUFFIXES
from counterscan.progress import progress_bar
from counterscan.serve.inference.model import Scorer, Threads
from counterscan.serve.offline.score_rows import (
    COLUMNS,
    LIMITS,
    Row,
    prepare_file,
    score_prepared,
)
from counterscan.serve.pipeline.prepare import ImageRejected, Limits, Prepared


def find_images(paths: list[Path]) -> list[Path]:
    """Files as given (any suffix: the decoder decides), folders searched for image suffixes."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        elif path.is_file():
            found.append(path)
        else:
            raise CounterscanError(f"{path} does not exist")
    if not found:
        raise CounterscanError("no image files found in the given paths")
    return found


def score_paths(
    model: Path,
    paths: list[Path],
    *,
    out: Path | None = None,
    threads: int = 2,
    batch_size: int = 32,
    json_out: Path | None = None,
    ray_address: str | None = None,
    ray_actors: int | None = None,
) -> int:
    """Score the files; `ray_address` runs the batches on that Ray cluster, `threads` then
    being per actor (`score_ray.py`)."""
    if batch_size < 1 or threads < 1 or (ray_actors is not None and ray_actors < 1):
        raise CounterscanError("--batch-size, --threads and --ray-actors must be at least 1")
    if out is not None and out.suffix.lower() not in (".csv", ".jsonl"):
        raise CounterscanError(f"--out must end in .csv or .jsonl, got {out.name}")
    files = find_images(paths)
    # With Ray the model is loaded here too: a bad file fails before the cluster is asked.
    scorer = Scorer.load(model, Threads(intra_op=1 if ray_address else threads))
    ray_stats: dict[str, Any] = {}
    if ray_address is None:
        batches = _local_rows(scorer, files, batch_size, threads)
    else:
        from counterscan.serve.offline.score_ray import ray_rows

        batches = ray_rows(
            scorer, files, ray_address, batch_size=batch_size, threads=threads,
            actors=ray_actors, stats=ray_stats,
        )  # fmt: skip
    start = time.perf_counter()
    counts = {"ok": 0, "error": 0}
    stream: IO[str] = sys.stdout if out is None else out.open("w", newline="", encoding="utf-8")
    try:
        write = _writer(stream, "jsonl" if out and out.suffix.lower() == ".jsonl" else "csv")
        with progress_bar(total=len(files), unit="img", desc="scoring", file=sys.stderr) as bar:
            for rows in batches:
                for row in rows:
                    counts["ok" if row["ok"] else "error"] += 1
                    write(row)
                bar.update(len(rows))
    finally:
        if out is not None:
            stream.close()
    seconds = time.perf_counter() - start
    summary = {
        "model": str(model),
        "model_version": scorer.model_version,
        "images": len(files),
        "ok": counts["ok"],
        "errors": counts["error"],
        "seconds": round(seconds, 3),
        "images_per_second": round(len(files) / seconds, 2) if seconds > 0 else None,
        "out": str(out) if out else None,
        **({"ray": ray_stats} if ray_address else {}),
    }
    print(
        f"scored {counts['ok']} of {len(files)} images ({counts['error']} errors) "
        f"in {seconds:.1f}s with model {scorer.model_version}",
        file=sys.stderr,
    )
    if json_out is not None:
        json_out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


def _local_rows(
    scorer: Scorer, files: list[Path], batch_size: int, threads: int
) -> Iterator[list[Row]]:
    """The rows of each batch, in order, scored in this process."""
    with ThreadPoolExecutor(threads, thread_name_prefix="decode") as pool:
        for batch, prepared in _prepared_batches(files, batch_size, pool, scorer, LIMITS):
            yield score_prepared(scorer, batch, prepared)


def _prepared_batches(
    files: list[Path], batch_size: int, pool: ThreadPoolExecutor, scorer: Scorer, limits: Limits
) -> Iterator[tuple[list[Path], list[Prepared | ImageRejected]]]:
    """Yield (paths, prepared) per batch, decoding the next batch while this one is scored."""
    batches = [files[i : i + batch_size] for i in range(0, len(files), batch_size)]

    def submit(batch: list[Path]) -> list[Future[Prepared | ImageRejected]]:
        return [pool.submit(prepare_file, p, scorer.input_size, limits) for p in batch]

    pending = submit(batches[0])
    for k, batch in enumerate(batches):
        current = pending
        if k + 1 < len(batches):
            pending = submit(batches[k + 1])
        yield batch, [f.result() for f in current]


def _writer(stream: IO[str], kind: str) -> Any:
    if kind == "jsonl":

        def write_json(row: dict[str, Any]) -> None:
            stream.write(json.dumps(row) + "\n")

        return write_json
    table = csv.DictWriter(stream, fieldnames=COLUMNS)
    table.writeheader()

    def write_csv(row: dict[str, Any]) -> None:
        table.writerow({k: "" if v is None else v for k, v in row.items()})

    return write_csv
