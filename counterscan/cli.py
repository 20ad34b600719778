"""`counterscan` console script: one sub-command per job.

Each subpackage owns its commands in its own `cli.py` (`register(subparsers)`); this file only
assembles them and turns user errors into a one-line message and a non-zero exit. Heavy imports
(torch, onnxruntime, fastapi) happen inside the command functions, so `--help` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from counterscan import __version__
from counterscan.errors import CounterscanError

EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    from counterscan.datasets import cli as data_cli
    from counterscan.model import cli as model_cli
    from counterscan.serve import cli as serve_cli
    from counterscan.serve.offline import evidence_cli, report_cli, verdict_cli
    from counterscan.training import cli as training_cli

    parser = argparse.ArgumentParser(
        prog="counterscan",
        description="Score product-listing photos for the chance that they show counterfeit goods.",
        epilog="Run `counterscan COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"counterscan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    verdict_cli.register(data_cli.register(commands))  # `data from-verdicts` reads the service's db
    training_cli.register(commands)
    model_cli.register(commands)
    serve_cli.register(commands)
    evidence_cli.register(commands)
    report_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CounterscanError as e:
        print(f"counterscan {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"counterscan {args.command}: interrupted", file=sys.stderr)
        return 130
