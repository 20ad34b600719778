"""Command-line entry points of this subpackage (registered by counterscan.cli)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add this subpackage's commands. Filled in by the owner of the subpackage."""
