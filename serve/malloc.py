"""Fewer glibc malloc arenas for the server process: less memory, same speed.

glibc gives threads that allocate at the same time arenas of their own, up to 8 per core. The
service runs many threads (the request pool, decoders, the ORT thread, evidence writers); each
arena keeps the freed memory of the large short-lived buffers it served (decoded photos, model
inputs), so resident memory creeps up with load and never comes back; with 2 arenas it stays
lower at the same throughput (the soak of tests/reliability/test_rel_load.py; bench/README.md).

An operator's own MALLOC_ARENA_MAX wins. Other C libraries (musl, macOS) are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Limit this process (from now on) and the processes it starts (through the environment:
    uvicorn's workers) to `arenas` malloc arenas. Returns whether the limit applies here."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    os.environ["MALLOC_ARENA_MAX"] = str(arenas)  # read by glibc when a child starts
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(_M_ARENA_MAX, arenas) == 1
