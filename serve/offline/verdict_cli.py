"""`counterscan data from-verdicts`: inspector verdicts -> a training dataset.

Registered under `counterscan data` by counterscan/cli.py. Lives on the serve side because it reads
the service's database; nothing heavy (SQLAlchemy, Pillow) is imported until it runs.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from counterscan.errors import CounterscanError

DEFAULT_DATA_DIR = "var/store"  # as `counterscan serve` (COUNTERSCAN_DATA_DIR)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "from-verdicts",
        help="export reviewed items of the service's database as a training dataset",
        description="Write the items inspectors gave a counterfeit or genuine verdict as a "
        "dataset: OUT/manifest.csv (path, label, group = listing id, source, sha256, inspector, "
        "...) and OUT/images/ (copies of the stored originals). The latest verdict counts, and a "
        "closed case's outcome wins over it (label_source, case_id); "
        "the same image scored by several model versions is one sample. `counterscan train OUT` "
        "accepts the result.",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="new (or empty) dataset folder")
    p.add_argument(
        "--db",
        metavar="URL",
        help="database URL as given to `counterscan serve`, e.g. sqlite:///var/counterscan.db "
        "or postgresql://user:password@host/db (default: $COUNTERSCAN_DB, else "
        "DATA_DIR/counterscan.db)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="the service's data folder holding evidence/ (default: $COUNTERSCAN_DATA_DIR, "
        f"else {DEFAULT_DATA_DIR})",
    )
    p.add_argument(
        "--include-unsure",
        choices=("no", "counterfeit", "genuine"),
        default="no",
        help="leave `unsure` items out (default), or export them with this label",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the summary as JSON")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from counterscan.serve.offline.verdict_export import export_verdicts

    data_dir = args.data_dir or Path(os.environ.get("COUNTERSCAN_DATA_DIR") or DEFAULT_DATA_DIR)
    db_url = (
        args.db or os.environ.get("COUNTERSCAN_DB") or f"sqlite:///{data_dir / 'counterscan.db'}"
    )
    summary = export_verdicts(db_url, data_dir, args.out, include_unsure=args.include_unsure)
    labels, skipped = summary["labels"], summary["skipped"]
    print(
        f"exported {summary['samples']} photos ({labels['counterfeit']} counterfeit, "
        f"{labels['genuine']} genuine) in {summary['groups']} groups to {summary['out']}; "
        f"skipped {skipped['unsure']} unsure, {skipped['missing_image']} with missing "
        f"evidence, {skipped['duplicate_image']} repeats of one image"
    )
    if not summary["both_classes"]:
        print("warning: only one class so far; training needs counterfeit and genuine photos")
    if args.json:
        try:
            args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        except OSError as e:
            raise CounterscanError(f"cannot write {args.json}: {e.strerror or e}") from None
    return 0
