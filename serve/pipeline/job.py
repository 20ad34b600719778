"""What the scoring pipeline carries: a submission as it arrives, and one record per image
(`Job`) that each stage fills in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from counterscan.serve.inference.batching import Scored
from counterscan.serve.pipeline.prepare import ImageRejected, Prepared
from counterscan.serve.storage import ItemRecord

Outcome = dict[str, Any] | ImageRejected  # the result body, or why this image was refused


@dataclass(frozen=True)
class Submission:
    """One image as a client sent it. `size`: the bytes it sent when `data` holds only the
    first of them (an upload is read no further than one byte past the limit)."""

    data: bytes
    listing_id: str | None = None
    source: str | None = None
    url: str | None = None
    size: int | None = None
    # The listing this photo belongs to (checked: storage/listings.check_listing_fields).
    seller_id: str | None = None
    seller_name: str | None = None
    title: str | None = None
    text: str | None = None
    price: float | None = None
    category: str | None = None

    @property
    def nbytes(self) -> int:
        return max(len(self.data), self.size or 0)


@dataclass(eq=False)
class Job:
    """One submitted image on its way through the stages. Repeats of the same bytes in one
    request point at the first submission (`first`), which does the work for all of them."""

    sub: Submission
    sha256: str = ""
    first: Job | None = None  # None: this is the first submission of these bytes
    refused: ImageRejected | None = None
    cached: ItemRecord | None = None  # the result stored for these bytes and this model
    prepared: Prepared | None = None
    fingerprint: bytes | None = None  # similar/fingerprint.py, made while decoding
    thumbnail: bytes | None = None  # JPEG, made while decoding, until it is written
    scored: Scored | None = None
    record: ItemRecord | None = None  # as stored: the cached one, or the one saved now
    heatmap_b64: str | None = None
    matches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def leader(self) -> Job:
        return self.first or self
