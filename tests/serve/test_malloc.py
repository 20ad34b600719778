"""`counterscan serve` limits glibc's malloc arenas (serve/malloc.py) unless the operator chose."""

from __future__ import annotations

import os
import platform

import pytest

from counterscan.serve.malloc import ARENAS, limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_limits_this_process_and_its_children(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "")  # so that monkeypatch restores the original
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert limit_malloc_arenas() is True
    assert os.environ["MALLOC_ARENA_MAX"] == str(ARENAS)


def test_the_operators_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert limit_malloc_arenas() is False
    assert os.environ["MALLOC_ARENA_MAX"] == "8"
