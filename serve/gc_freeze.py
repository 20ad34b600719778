"""Keep the objects made at start-up out of Python's full garbage collections.

A full (generation 2) collection walks every tracked object while it holds the GIL. After
start-up the server holds ~130,000 of them (FastAPI, pydantic, SQLAlchemy, the model's
contract, ...), and one such walk stopped every request for 55-65 ms: all 8 clients of the
single-image benchmark waited at once, which alone decided the p99 (bench/README.md, issue 17).
Those objects live as long as the process, so they are moved out of the collector's sight once
start-up is done (`gc.freeze`); objects made later are collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect what start-up left behind, then freeze the rest; returns how many are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
