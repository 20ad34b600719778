"""Keyset cursors: the sort key of a page's last row, handed to clients as an opaque token.

A client sends the `next_cursor` of one page as `after` to get the next: the database seeks to
that key through the index instead of counting `offset` rows from the start, so page 20,000 costs
what page 1 costs, and rows added or removed meanwhile never shift a page (no duplicates, no
gaps). The token is URL-safe base64 of a JSON list; its contents are no contract.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime
from typing import Any

from counterscan.errors import CounterscanError

MAX_CURSOR = 400  # characters; a real one is about 120


def encode(*key: Any) -> str:
    """(values...) -> token; datetimes travel as ISO text."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, kinds: tuple[type, ...]) -> tuple[Any, ...]:
    """token -> values of the given kinds (int, float, str, datetime); a token this server did
    not give out is a one-line CounterscanError (HTTP 422)."""
    bad = CounterscanError("after is not a cursor from this list (use the next_cursor it gave)")
    if not token or len(token) > MAX_CURSOR:
        raise bad
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise bad from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise bad
    out: list[Any] = []
    for value, kind in zip(values, kinds, strict=True):
        out.append(_as(value, kind, bad))
    return tuple(out)


def _as(value: Any, kind: type, bad: CounterscanError) -> Any:
    if kind is datetime:
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise bad
        return moment
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise bad
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise bad
    return value
