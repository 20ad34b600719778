"""`counterscan serve` (the HTTP service) and `counterscan score` (offline bulk scoring).

Heavy imports (onnxruntime, fastapi, uvicorn) happen inside the run functions, so `--help` is
instant and the rest of the CLI never pays for them.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from counterscan.errors import CounterscanError

SETTINGS_HELP = (
    "Every option can also be set by an environment variable COUNTERSCAN_<NAME> (e.g. "
    "COUNTERSCAN_MODEL, COUNTERSCAN_DB, COUNTERSCAN_API_KEYS=key:role:name,...; roles: crawler, "
    "inspector, admin). Without API keys the server only listens on loopback."
)


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve the scoring API and the inspector console",
        description="Serve the scoring API (/v1), /metrics and the inspector console.",
        epilog=SETTINGS_HELP,
    )
    serve.add_argument("--model", type=Path, help="ONNX model file (env COUNTERSCAN_MODEL)")
    serve.add_argument(
        "--db", help="database URL, sqlite:///FILE or postgresql://... (env COUNTERSCAN_DB)"
    )
    serve.add_argument(
        "--data-dir", type=Path, help="folder for evidence images (default var/store)"
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.add_argument("--threads", type=int, help="ONNX Runtime threads per worker")
    serve.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"))
    serve.set_defaults(func=_run_serve)

    score = commands.add_parser(
        "score",
        help="score image files or folders offline (CSV or JSON lines)",
        description=(
            "Score images with an ONNX model, without a server: the same decoding and resizing as "
            "the service. Folders are searched recursively. A file that cannot be scored gets an "
            "error in its row; it does not stop the run."
        ),
    )
    score.add_argument("model", type=Path, help="ONNX model file")
    score.add_argument("paths", type=Path, nargs="+", help="image files or folders")
    score.add_argument("--out", type=Path, help="FILE.csv or FILE.jsonl (default: CSV on stdout)")
    score.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads (default: all cores, at most 8); with --ray: per actor (default 1)",
    )
    score.add_argument(
        "--batch-size", type=int, default=32, help="images per model call (default 32)"
    )
    score.add_argument("--json", type=Path, dest="json_out", help="write a summary as JSON here")
    score.add_argument(
        "--ray",
        metavar="ADDRESS",
        dest="ray_address",
        help="score on the Ray cluster at ADDRESS (head HOST:PORT, or auto) with Ray Data; needs "
        "the extra `ray`, and every node must see the files at the same paths",
    )
    score.add_argument(
        "--ray-actors",
        type=int,
        metavar="N",
        help="with --ray: scoring actors, each with one model (default: as many as fit, each "
        "node's CPUs / --threads)",
    )
    score.set_defaults(func=_run_score)


def _run_serve(args: argparse.Namespace) -> int:
    from counterscan.serve.server import serve

    return serve(
        model=args.model,
        db=args.db,
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        log_level=args.log_level,
    )


def _run_score(args: argparse.Namespace) -> int:
    from counterscan.serve.offline.score_files import score_paths

    if args.ray_actors is not None and args.ray_address is None:
        raise CounterscanError("--ray-actors needs --ray ADDRESS")
    threads = args.threads or (1 if args.ray_address else len(os.sched_getaffinity(0)))
    return score_paths(
        args.model,
        args.paths,
        out=args.out,
        threads=threads,
        batch_size=args.batch_size,
        json_out=args.json_out,
        ray_address=args.ray_address,
        ray_actors=args.ray_actors,
    )
