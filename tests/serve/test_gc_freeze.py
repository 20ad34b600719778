"""The server's start-up objects are kept out of full garbage collections (serve/gc_freeze.py),
and what is made later is still collected."""

from __future__ import annotations

import gc
import weakref

from counterscan.serve.gc_freeze import freeze_startup_objects


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_a_started_app_has_frozen_its_startup_objects(make_client) -> None:
    gc.unfreeze()
    make_client()
    assert gc.get_freeze_count() > 10_000  # FastAPI, pydantic, SQLAlchemy, ...


def test_garbage_made_after_the_freeze_is_still_collected() -> None:
    before = Node()
    frozen_ref = weakref.ref(before)
    assert freeze_startup_objects() > 0
    del before
    later = Node()
    later_ref = weakref.ref(later)
    del later
    gc.collect()
    assert later_ref() is None  # made after the freeze: collected
    assert frozen_ref() is not None  # frozen: never collected, as the process's own objects
    gc.unfreeze()
    gc.collect()
    assert frozen_ref() is None
