"""`counterscan data ...`: check, split and generate labelled photo sets.

Each command unpacks its arguments into a plain function call (check.check_dataset,
split.split_dataset, synth.generate); the modules are imported inside the run functions so that
`counterscan --help` stays instant.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from counterscan.errors import CounterscanError

# = neardup.NEAR_DUPLICATE_SIMILARITY, repeated so that `--help` imports no numpy (a test keeps
# the two equal).
NEAR_DUPLICATE_SIMILARITY_DEFAULT = 0.945


def register(commands: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """Add `counterscan data ...`; returns its sub-commands so the top-level CLI can add
    `data from-verdicts`, which reads the service's database (a higher layer than datasets)."""
    data = commands.add_parser(
        "data",
        help="check, split and generate labelled photo sets",
        description="Work with labelled photo sets (a folder with manifest.csv, or genuine/ and "
        "counterfeit/ sub-folders, optionally under train/ val/ test/).",
    )
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    _register_check(sub)
    _register_split(sub)
    _register_synth(sub)
    return sub


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def _similarity(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value}")
    return value


def write_json(path: Path, payload: dict) -> None:
    """Write a command's machine-readable result; a bad path is a user error, not a traceback."""
    try:
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as e:
        raise CounterscanError(f"cannot write {path}: {e.strerror or e}") from None


def _register_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="decode every photo and report broken files, copies, leaks and label conflicts",
        description="Decode every photo and report, per file: missing, unreadable, zero-byte, "
        "non-image and truncated files (errors), photos too small to use (warnings), exact "
        "copies (same sha256) and near copies (re-encoded, resized, recoloured or slightly "
        "cropped). Errors: the same photo on two sides of a split or with two labels, a group "
        "spread over several splits, files that cannot be used. Prints class balance, group "
        "counts and image sizes. Exit status: 0 no errors, 1 errors found, 2 unreadable "
        "dataset (e.g. a manifest without a label column).",
    )
    p.add_argument("data", type=Path, metavar="DATA", help="dataset folder")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the full report as JSON")
    p.add_argument(
        "--min-side",
        type=_positive_int,
        default=64,
        metavar="PX",
        help="warn about photos whose short side is under PX pixels (default: %(default)s)",
    )
    p.add_argument(
        "--near-similarity",
        type=_similarity,
        default=NEAR_DUPLICATE_SIMILARITY_DEFAULT,
        metavar="S",
        help="aligned high-pass similarity (0-1) from which two photos count as copies of one "
        "photo (default: %(default)s; measured: copies 0.94-1, two photos of one object "
        "<= 0.75, look-alike objects photographed in one pose <= 0.93)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="processes for decoding and comparing (default: one per core, at most 8)",
    )
    p.set_defaults(func=_run_check)


def _run_check(args: argparse.Namespace) -> int:
    from counterscan.datasets.check import CheckSettings, check_dataset
    from counterscan.datasets.check_report import format_report

    settings = CheckSettings(
        min_side=args.min_side,
        near_similarity=args.near_similarity,
        workers=max(0, args.workers),
        progress=True,
    )
    report = check_dataset(args.data, settings)
    print(format_report(report))
    if args.json:
        write_json(args.json, report.to_json())
    return 1 if report.errors else 0


def _register_split(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "split",
        help="assign train/val/test by group, stratified by label, with copies kept together",
        description="Assign every photo to train, val or test. Photos of one group stay "
        "together, and so do copies of one photo across groups (identical bytes or near "
        "copies: they are merged into one group first), so nothing leaks between the splits. "
        "Each split gets about the asked fraction of each label. The split is written into "
        "DATA/manifest.csv (the previous one is kept as manifest.csv.bak, .bak.1, ...; a "
        "folder-layout dataset gets a new manifest.csv). For a dataset in a read-only place, "
        "--out DIR writes a complete new dataset instead: DIR/manifest.csv plus copies of the "
        "photos at the same relative paths.",
    )
    p.add_argument("data", type=Path, metavar="DATA", help="dataset folder")
    p.add_argument(
        "--val", type=_fraction, default=0.15, metavar="F", help="validation fraction (0.15)"
    )
    p.add_argument("--test", type=_fraction, default=0.15, metavar="F", help="test fraction (0.15)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write a new dataset (manifest + copies of the photos) to this new or empty "
        "folder instead of changing DATA",
    )
    p.add_argument(
        "--near-similarity",
        type=_similarity,
        default=NEAR_DUPLICATE_SIMILARITY_DEFAULT,
        metavar="S",
        help="similarity from which two photos count as copies (default: %(default)s; see "
        "`counterscan data check --help`)",
    )
    p.add_argument("--workers", type=int, default=0, metavar="N", help="processes (default: cores)")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the counts as JSON")
    p.set_defaults(func=_run_split)


def _run_split(args: argparse.Namespace) -> int:
    from counterscan.datasets.split import SplitSettings, check_fractions, split_dataset

    check_fractions(args.val, args.test)
    settings = SplitSettings(
        val=args.val,
        test=args.test,
        seed=args.seed,
        near_similarity=args.near_similarity,
        workers=max(0, args.workers),
    )
    result = split_dataset(args.data, settings, out=args.out)
    total = max(1, len(result.dataset.samples))
    print(
        f"split {len(result.dataset.samples)} photos of {result.groups} groups into "
        f"{result.units} units kept whole ({result.merged_by_copies} join several groups that "
        f"share a photo); seed {settings.seed}"
    )
    for split, counts in result.counts().items():
        n = sum(counts.values())
        per_label = ", ".join(f"{label} {count}" for label, count in counts.items())
        print(f"  {split:5s} {n:6d} ({n / total:.1%}): {per_label}")
        if n and min(counts.values()) == 0:
            print(f"  warning: {split} has no photos of one class")
    if result.undecodable:
        print(
            f"warning: {len(result.undecodable)} photos could not be decoded (placed by group "
            "only); run `counterscan data check`"
        )
    backup = f" (previous manifest kept as {result.backup})" if result.backup else ""
    print(f"wrote {result.manifest}{backup}")
    if args.json:
        write_json(args.json, result.to_json())
    return 0


def _register_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="generate synthetic listing photos (genuine and counterfeit packaged goods)",
        description="Write N synthetic listing-style photos of packaged goods, genuine and "
        "counterfeit, with OUT/manifest.csv (path, label, group, ...). The same seed gives "
        "the same bytes. Difficulty sets how subtle the counterfeit cues are.",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="new (or empty) dataset folder")
    p.add_argument("--n", type=_positive_int, default=400, metavar="N", help="photos (400)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    p.add_argument(
        "--difficulty",
        choices=("easy", "medium", "hard"),
        default="medium",
        help="how subtle the counterfeit cues are (default: medium)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="write the summary as JSON")
    p.set_defaults(func=_run_synth)


def _run_synth(args: argparse.Namespace) -> int:
    from counterscan.datasets.synth import generate

    summary = generate(args.out, n=args.n, seed=args.seed, difficulty=args.difficulty)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.json:
        write_json(args.json, summary)
    return 0
