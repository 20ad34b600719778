"""`counterscan evidence keygen|export|verify`: the office's signing key and case evidence ZIPs.

Registered by counterscan/cli.py. Nothing heavy (SQLAlchemy, cryptography, ONNX Runtime) is
imported until a command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from counterscan.errors import CounterscanError
from counterscan.serve.offline.verdict_cli import DEFAULT_DATA_DIR


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "evidence",
        help="signed evidence packages of cases (keygen, export, verify)",
        description="Evidence packages: one ZIP per case with the original photos, their "
        "hashes, where and when they were collected, scores, heat maps, history and a printable "
        "summary; manifest.json lists every file with its SHA-256 and is signed with Ed25519.",
    )
    sub = p.add_subparsers(dest="evidence_command", metavar="COMMAND", required=True)

    k = sub.add_parser("keygen", help="make the office's signing key pair")
    k.add_argument("prefix", type=Path, metavar="PREFIX", help="writes PREFIX.key and PREFIX.pub")
    k.set_defaults(func=_keygen)

    e = sub.add_parser("export", help="write the evidence ZIP of a case")
    e.add_argument("case_id", type=int, metavar="CASE_ID")
    e.add_argument("--db", metavar="URL", help="database URL (default: $COUNTERSCAN_DB)")
    e.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help=f"data folder with evidence/ (default: $COUNTERSCAN_DATA_DIR, else {DEFAULT_DATA_DIR})",
    )
    e.add_argument("--out", type=Path, required=True, metavar="FILE.zip")
    e.add_argument(
        "--key",
        type=Path,
        metavar="FILE",
        help="signing key from `evidence keygen` (default: $COUNTERSCAN_EVIDENCE_KEY)",
    )
    e.add_argument(
        "--model", type=Path, metavar="ONNX", help="draw heat maps with this model (optional)"
    )
    e.add_argument("--lang", choices=("vi", "en"), default="vi", help="summary.html language")
    e.add_argument("--by", default=None, help="who exports, for the case history (default: $USER)")
    e.set_defaults(func=_export)

    v = sub.add_parser("verify", help="check a package's signature and every file's hash")
    v.add_argument("package", type=Path, metavar="PACKAGE.zip")
    v.add_argument("--public-key", type=Path, required=True, metavar="PREFIX.pub")
    v.set_defaults(func=_verify)


def _keygen(args: argparse.Namespace) -> int:
    from counterscan.serve.cases.evidence import keygen

    key, pub = keygen(args.prefix)
    print(f"wrote {key} (private, mode 600: give it to the server as COUNTERSCAN_EVIDENCE_KEY)")
    print(f"wrote {pub} (public: give it to whoever checks packages)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from counterscan.serve.cases.evidence import (
        build_package,
        load_private_key,
        load_similar,
        similar_finder,
    )
    from counterscan.serve.offline.verdict_export import _check_sources
    from counterscan.serve.storage import Store

    data_dir = args.data_dir or Path(os.environ.get("COUNTERSCAN_DATA_DIR") or DEFAULT_DATA_DIR)
    db_url = (
        args.db or os.environ.get("COUNTERSCAN_DB") or f"sqlite:///{data_dir / 'counterscan.db'}"
    )
    key_file = args.key or os.environ.get("COUNTERSCAN_EVIDENCE_KEY")
    if not key_file:
        raise CounterscanError("no signing key: pass --key or set COUNTERSCAN_EVIDENCE_KEY")
    key = load_private_key(Path(key_file))
    _check_sources(db_url, data_dir)
    heatmap, note = None, "no model given (--model)"
    if args.model is not None:
        heatmap = _heatmap_maker(args.model)
        note = ""
    actor = args.by or os.environ.get("USER") or "cli"
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with Store(db_url, data_dir) as store, tmp.open("wb") as out:
            build_package(
                store,
                args.case_id,
                key,
                actor=actor,
                lang=args.lang,
                heatmap=heatmap,
                similar=similar_finder(load_similar(store), store),
                model_note=note,
                out=out,
            )
        os.replace(tmp, args.out)
    except OSError as e:
        raise CounterscanError(f"cannot write {args.out}: {e.strerror or e}") from None
    finally:
        tmp.unlink(missing_ok=True)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) for case {args.case_id}")
    if heatmap is None:
        print("heat maps not included (no --model); the manifest says so")
    return 0


def _heatmap_maker(model: Path) -> Callable[[bytes], bytes]:
    """original bytes -> heat-map PNG, drawn as the service draws it (cases.evidence)."""
    from counterscan.serve.cases.evidence import heatmap_maker
    from counterscan.serve.inference.model import Scorer, Threads
    from counterscan.serve.pipeline.prepare import Limits
    from counterscan.serve.settings import load_settings

    settings = load_settings(model=model, decode_threads=1)
    scorer = Scorer.load(model, Threads.from_settings(settings))
    return heatmap_maker(scorer, Limits.from_settings(settings))


def _verify(args: argparse.Namespace) -> int:
    from counterscan.serve.cases.evidence import verify_package

    result = verify_package(args.package, args.public_key)
    if result.ok:
        print(f"{args.package}: signature valid, all {result.files} files match the manifest")
        return 0
    for problem in result.problems():
        print(f"{args.package}: {problem}", file=sys.stderr)
    return 1
