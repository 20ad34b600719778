"""Progress in a pipe or a log file is whole lines, never a flood of carriage returns
(counterscan/progress.py); on a terminal it stays tqdm's live bar."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from tqdm import tqdm

from counterscan import progress
from counterscan.progress import LINES_PER_BAR, LineProgress, progress_bar


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pipe_gets_lines_and_a_terminal_gets_the_bar() -> None:
    assert isinstance(progress_bar(range(3), file=io.StringIO()), LineProgress)
    bar = progress_bar(range(3), file=FakeTerminal())
    assert isinstance(bar, tqdm)
    bar.close()


def test_one_line_per_tenth_at_most_and_one_at_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "MIN_LINE_INTERVAL_S", 0.0)  # every tenth is due
    out = io.StringIO()
    seen = list(progress_bar(range(1000), desc="scoring", unit="img", file=out))
    assert seen == list(range(1000))
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == LINES_PER_BAR  # nine tenths on the way, then the end
    assert lines[0].startswith("scoring: 100/1000 img (10%)")
    assert lines[-1].startswith("scoring: 1000/1000 img (100%)")


def test_a_short_bar_writes_only_its_last_line() -> None:
    out = io.StringIO()
    with progress_bar(total=500, desc="decoding", unit="photo", file=out) as bar:
        for _ in range(500):
            bar.update(1)
            bar.set_postfix(loss="0.1234")
    assert out.getvalue().count("\n") == 1
    assert out.getvalue().startswith("decoding: 500/500 photo (100%)")
    assert out.getvalue().rstrip().endswith("loss=0.1234")


def test_disabled_writes_nothing() -> None:
    out = io.StringIO()
    for _ in progress_bar(range(10), disable=True, file=out):
        pass
    assert out.getvalue() == ""


def test_cli_progress_in_a_pipe_is_lines(tmp_path: Path) -> None:
    """`counterscan data synth` with stdout and stderr piped, as under CI or `make run > log`."""
    done = subprocess.run(
        [sys.executable, "-m", "counterscan", "data", "synth", str(tmp_path / "s"), "--n", "40"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "\r" not in output, output[:500]
    bar_lines = [line for line in done.stderr.splitlines() if line.startswith("synth: ")]
    assert 1 <= len(bar_lines) <= LINES_PER_BAR, done.stderr
    assert bar_lines[-1].startswith("synth: 40/40 photo (100%)"), done.stderr
