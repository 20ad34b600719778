"""Progress bars that suit where they are written: the one helper every command uses.

On a terminal, tqdm's live bar. Anywhere else (a pipe, a log file, CI) plain lines instead: one
at each tenth of the way, no more often than every MIN_LINE_INTERVAL_S, and one at the end. A
live bar redraws itself with a carriage return up to ten times a second, which a log file keeps
as thousands of fragments of one very long line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, Generic, TypeVar

from tqdm import tqdm

T = TypeVar("T")

LINES_PER_BAR = 10  # in-between lines at most (one per tenth), plus the final one
MIN_LINE_INTERVAL_S = 5.0  # a short bar writes only its final line
UNKNOWN_TOTAL_INTERVAL_S = 30.0  # without a total there are no tenths: a line this often


def progress_bar(
    iterable: Iterable[T] | None = None,
    *,
    total: int | None = None,
    desc: str | None = None,
    unit: str = "it",
    disable: bool = False,
    leave: bool = True,
    file: IO[str] | None = None,
) -> tqdm | LineProgress[T]:
    """tqdm's bar on a terminal, `LineProgress` elsewhere; nothing at all when `disable`.
    The arguments are tqdm's (the ones this project uses); both results iterate, `update`,
    `set_postfix`, `close` and work as context managers."""
    stream = file if file is not None else sys.stderr
    if disable or is_terminal(stream):
        return tqdm(
            iterable, total=total, desc=desc, unit=unit, disable=disable, leave=leave, file=stream
        )
    return LineProgress(iterable, total=total, desc=desc, unit=unit, file=stream)


def is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


class LineProgress(Generic[T]):
    """Progress as whole lines, e.g. `synth: 300/1000 photo (30%), 12 s, 24.6 photo/s`."""

    def __init__(
        self,
        iterable: Iterable[T] | None = None,
        *,
        total: int | None = None,
        desc: str | None = None,
        unit: str = "it",
        file: IO[str],
    ) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.iterable = iterable
        self.total = total
        self.desc = desc or "progress"
        self.unit = unit
        self.file = file
        self.n = 0
        self.postfix = ""
        self.start = self.last_line = time.monotonic()
        self.tenths_done = 0
        self.closed = False

    def __iter__(self) -> Iterator[T]:
        assert self.iterable is not None, "LineProgress without an iterable cannot iterate"
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> LineProgress[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if self.total:
            tenths = min(LINES_PER_BAR, self.n * LINES_PER_BAR // self.total)
            due = tenths > self.tenths_done and self.n < self.total
            if due and now - self.last_line >= MIN_LINE_INTERVAL_S:
                self.tenths_done = tenths
                self._write(now)
        elif now - self.last_line >= UNKNOWN_TOTAL_INTERVAL_S:
            self._write(now)

    def set_postfix(self, **values: Any) -> None:
        self.postfix = ", ".join(f"{key}={value}" for key, value in values.items())

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._write(time.monotonic())

    def _write(self, now: float) -> None:
        self.last_line = now
        seconds = now - self.start
        done = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        share = f" ({100 * self.n // self.total}%)" if self.total else ""
        rate = f", {self.n / seconds:.1f} {self.unit}/s" if seconds > 0 and self.n else ""
        postfix = f", {self.postfix}" if self.postfix else ""
        line = f"{self.desc}: {done} {self.unit}{share}, {seconds:.0f} s{rate}{postfix}\n"
        self.file.write(line)
        self.file.flush()
