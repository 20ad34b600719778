"""Item ids and the limits on stored text: checked before anything reaches SQL or the disk."""

from __future__ import annotations

import re
import secrets
import time

from counterscan.errors import CounterscanError

ITEM_ID_RE = re.compile(r"^[0-9a-f]{32}$")
# Longest accepted text per field (characters): bounded rows, and PostgreSQL would refuse more.
MAX_LEN = {
    "listing_id": 256,
    "source": 128,
    "url": 4096,
    "model_version": 128,
    "inspector": 128,
    "recorded_by": 128,
    "note": 10_000,
    "case_title": 256,
    # Listings and sellers (schema version 6)
    "seller_id": 256,
    "seller_name": 256,
    "title": 1000,
    "text": 20_000,
    "category": 256,
}
MAX_PRICE = 1e12  # VND; a larger price is a typing error, not a listing


def new_item_id() -> str:
    """32 hex digits: 12 of milliseconds since 1970 (so ids sort by time), 20 random."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def is_item_id(value: str) -> bool:
    return isinstance(value, str) and ITEM_ID_RE.fullmatch(value) is not None


def check_text(name: str, value: str | None, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise CounterscanError(f"{name} must not be empty")
        return None
    if not isinstance(value, str):
        raise CounterscanError(f"{name} must be text")
    if len(value) > MAX_LEN[name]:
        raise CounterscanError(f"{name} is longer than {MAX_LEN[name]} characters")
    if "\x00" in value:
        raise CounterscanError(f"{name} contains a NUL character")
    return value
