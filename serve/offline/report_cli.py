"""`counterscan report --from DATE --to DATE --out report.xlsx|.csv`: the office's report.

Registered by counterscan/cli.py; reads the service's database (nothing heavy is imported until
the command runs).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from counterscan.errors import CounterscanError
from counterscan.serve.offline.verdict_cli import DEFAULT_DATA_DIR


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "report",
        help="the office's report for a period (xlsx or csv)",
        description="Counts of items scored and reviewed, cases opened and closed, violations "
        "by kind, fines and goods value, per source, category and inspector, for the period "
        "[FROM, TO). The format follows --out's suffix (.xlsx or .csv).",
    )
    p.add_argument("--from", dest="start", required=True, metavar="DATE", help="e.g. 2026-01-01")
    p.add_argument("--to", dest="end", required=True, metavar="DATE", help="exclusive")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="report.xlsx or .csv")
    p.add_argument("--db", metavar="URL", help="database URL (default: $COUNTERSCAN_DB)")
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help=f"the service's data folder (default: $COUNTERSCAN_DATA_DIR, else {DEFAULT_DATA_DIR})",
    )
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="column headers")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the numbers as JSON")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from counterscan.serve.cases.report import parse_moment, summary
    from counterscan.serve.cases.report_files import FORMATS, render
    from counterscan.serve.offline.verdict_export import _check_sources
    from counterscan.serve.storage import Store

    fmt = args.out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise CounterscanError(f"--out must end in .xlsx or .csv, not {args.out.name!r}")
    start, end = parse_moment(args.start, "--from"), parse_moment(args.end, "--to")
    data_dir = args.data_dir or Path(os.environ.get("COUNTERSCAN_DATA_DIR") or DEFAULT_DATA_DIR)
    db_url = (
        args.db or os.environ.get("COUNTERSCAN_DB") or f"sqlite:///{data_dir / 'counterscan.db'}"
    )
    _check_sources(db_url, data_dir)
    with Store(db_url, data_dir) as store:
        report = summary(store, start, end)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(render(report, fmt, args.lang))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    except OSError as e:
        raise CounterscanError(f"cannot write the report: {e.strerror or e}") from None
    print(
        f"wrote {args.out}: {report['cases_opened']} cases opened, {report['cases_closed']} "
        f"closed, {report['violations']} violations, fines {report['fines_vnd']:,} VND, "
        f"goods {report['goods_value_vnd']:,} VND ({report['from']} to {report['to']})"
    )
    return 0
