"""Similar cases in the running service: the reference sets, kept in step with the verdicts.

    cases = SimilarCases(MatchConfig(...)); cases.load(store)      at start-up
    matches = cases.match(photo)                                   at scoring time
    new = cases.on_verdict(store, item)                            after every verdict
    cases.reflag_later(store, new, item)             a bounded background job (reflag.py)
    sync.VerdictFollower(cases, store, interval_s).start()         verdicts given elsewhere

Items whose current verdict is `counterfeit` are the references; `genuine` ones the known-good
set (their matches are shown, they never raise a priority). An unreviewed item that matches a
confirmed counterfeit (any kind) is raised to priority `high`, and `items.priority_reason` says
which case it matched; the queue ranks it first. A new counterfeit verdict also scans the
unreviewed queue for items that match the new reference (`reflag`, run by reflag.py's job). Raised priorities are not
lowered again if the reference's verdict changes later: the inspector sees the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Annotated

import numpy as np
from fastapi import Depends, Request

from counterscan.contract import HIGH
from counterscan.errors import CounterscanError
from counterscan.images import ImageDecodeError, decode_image
from counterscan.serve.similar.fingerprint import Fingerprint, fingerprint
from counterscan.serve.similar.index import ANN_FROM
from counterscan.serve.similar.matching import Match, MatchConfig, match_photo
from counterscan.serve.similar.references import Photo, ReferenceSet
from counterscan.serve.similar.reflag import BATCH, ReflagJob
from counterscan.serve.storage import ItemRecord, Store

log = logging.getLogger(__name__)

REFERENCE_VERDICTS = ("counterfeit", "genuine")
_DECODE_SIDE = 320  # fingerprints made from stored evidence decode at about this size


def limit_blas_threads() -> None:
    """Matching multiplies small matrices; several BLAS threads per product only spin against
    ONNX Runtime and the decoding threads (bench/README.md). Applies to the whole process."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a serve install has it
        return
    threadpool_limits(1, user_api="blas")


class SimilarCases:
    def __init__(self, config: MatchConfig | None = None, *, ann_from: int = ANN_FROM) -> None:
        self.config = config or MatchConfig()
        self.sets = {v: ReferenceSet(v, ann_from=ann_from) for v in REFERENCE_VERDICTS}
        self.unreadable_fingerprints = 0  # stored fingerprints the re-flag scan could not read
        # One item moves between sets at a time (the verdict route and sync.py both move items).
        self._moving = threading.Lock()
        # Set by the app to sync.VerdictFollower.later: the second re-flag scan, once every
        # process has caught up with a new counterfeit verdict.
        self.rescan_later: Callable[[Photo, datetime], None] | None = None
        # Set by the app to the sellers' hook: items a re-flag raised change their sellers' risk.
        self.on_raised: Callable[[Store, list[str]], None] | None = None
        self.job = ReflagJob(self.reflag)  # the bounded background re-flag (reflag.py)

    def __len__(self) -> int:
        return sum(len(s) for s in self.sets.values())

    # ------------------------------------------------------------------ keeping in step

    def load(self, store: Store) -> int:
        """Add every reviewed counterfeit and genuine item; returns how many."""
        items = store.reviewed_items(REFERENCE_VERDICTS)
        for item in items:
            self._put(store, item)
        log.info("similar cases: %d references loaded", len(items))
        return len(items)

    def on_verdict(self, store: Store, item: ItemRecord) -> Photo | None:
        """Move the item to the set of its current verdict. Returns it as a new reference
        after a counterfeit verdict (then `reflag` the queue with it), else None."""
        with self._moving:
            for refs in self.sets.values():
                refs.remove(item.id)
            if item.verdict is None or item.verdict.verdict not in self.sets:
                return None
            photo = self._put(store, item)
        return photo if item.verdict.verdict == "counterfeit" else None

    def reflag_later(self, store: Store, reference: Photo, item: ItemRecord | None = None) -> None:
        """After a counterfeit verdict given here: hand the reference to the background re-flag
        job (reflag.py; returns at once), and scan the newest items again once every other
        process follows the verdict (sync.py), for copies they scored before they knew it."""
        if self.rescan_later is not None and item is not None and item.verdict is not None:
            self.rescan_later(reference, item.verdict.created_at)
        self.job.submit(store, reference)

    def _put(self, store: Store, item: ItemRecord) -> Photo:
        photo = photo_of(item, store)
        assert item.verdict is not None
        self.sets[item.verdict.verdict].add(photo)
        return photo

    # ------------------------------------------------------------------ matching

    def match(self, photo: Photo) -> list[Match]:
        return match_photo(photo, list(self.sets.values()), self.config)

    def raise_if_counterfeit(
        self, store: Store, record: ItemRecord, matches: list[Match]
    ) -> ItemRecord:
        """Raise an unreviewed item that matches a confirmed counterfeit; the record as stored."""
        hit = next((m for m in matches if m.verdict == "counterfeit"), None)
        if hit is None or record.status != "unreviewed" or record.priority_reason is not None:
            return record
        reason = reason_for(hit)
        if store.raise_priority(record.id, reason):
            return replace(record, priority=HIGH, priority_reason=reason)
        return record

    def reflag(
        self,
        store: Store,
        *references: Photo,
        batch: int = BATCH,
        rest: Callable[[float], None] | None = None,
        pages: Iterable[list[ItemRecord]] | None = None,
    ) -> list[str]:
        """Raise unreviewed items that match any of `references` (new confirmed counterfeits).
        Reads the queue by keyset, `batch` items at a time, and calls `rest(seconds worked)`
        after each batch (the job's pause). `pages`: the items to look at instead (sync.py's
        late scan of the newest items)."""
        refs = ReferenceSet("counterfeit")
        for reference in references:
            refs.add(reference)
        done: list[str] = []
        unreadable: set[str] = set()
        started = time.perf_counter()
        for page in _candidate_pages(store, batch) if pages is None else pages:
            candidates: dict[str, ItemRecord] = {}
            for reference in references:
                for record in _plausible(page, reference, self.config, unreadable):
                    if record.priority_reason is None:
                        candidates[record.id] = record
            for record in candidates.values():
                found = match_photo(photo_of(record, None), [refs], self.config)
                hit = next((m for m in found if m.verdict == "counterfeit"), None)
                # Raising moves the item to the top, behind the cursor: never read twice.
                if hit is not None and store.raise_priority(record.id, reason_for(hit)):
                    done.append(record.id)
            if rest is not None:
                rest(time.perf_counter() - started)
            started = time.perf_counter()
        if unreadable:
            # One bad row must not stop the scan: compared without its colours, and counted.
            self.unreadable_fingerprints += len(unreadable)
            log.warning(
                "similar cases: %d queued items have an unreadable fingerprint (e.g. %s); "
                "matched without it",
                len(unreadable),
                ", ".join(sorted(unreadable)[:5]),
            )
        if done and self.on_raised is not None:
            self.on_raised(store, done)
        if done:
            log.info(
                "similar cases: %d queued items match new counterfeit(s) %s",
                len(done),
                ", ".join(r.item_id for r in references),
            )
        return done


def _candidate_pages(store: Store, batch: int) -> Iterator[list[ItemRecord]]:
    """The unreviewed queue by keyset, `batch` items at a time (each an index range)."""
    after: str | None = None
    while True:
        page = store.match_candidates(after, batch)
        yield page.items
        if page.next_cursor is None:
            return
        after = page.next_cursor


def reason_for(match: Match) -> str:
    return f"matches confirmed counterfeit {match.item_id} ({match.kind.replace('_', '-')})"


def photo_of(item: ItemRecord, store: Store | None) -> Photo:
    """What matching needs of a stored item. Items scored before fingerprints were kept get
    one made from their stored image now (and kept) when `store` is given."""
    fp: Fingerprint | None = None
    if item.fingerprint is not None:
        try:
            fp = Fingerprint.from_bytes(item.fingerprint)
        except ValueError:
            fp = None
    if fp is None and store is not None:
        fp = _fingerprint_from_evidence(store, item)
    return Photo(item.id, item.sha256, fp, item.embedding)


def _fingerprint_from_evidence(store: Store, item: ItemRecord) -> Fingerprint | None:
    try:
        data = store.image_path(item).read_bytes()
        fp = fingerprint(decode_image(data, target=_DECODE_SIDE).rgb)
    except (OSError, ImageDecodeError) as e:
        log.warning("no fingerprint for item %s: %s", item.id, e)
        return None
    try:
        store.set_fingerprint(item.id, fp.to_bytes())
    except CounterscanError as e:  # pragma: no cover - kept in memory all the same
        log.warning("fingerprint of item %s not stored: %s", item.id, e)
    return fp


def _plausible(
    page: list[ItemRecord], reference: Photo, config: MatchConfig, unreadable: set[str]
) -> list[ItemRecord]:
    """The items of a page that could match the reference at all (same bytes, colours alike
    enough for a near-duplicate, or embeddings alike enough): cheap tests, so that only these
    are aligned. Items whose stored fingerprint cannot be read are added to `unreadable`."""
    out = []
    hist = reference.fingerprint.hist if reference.fingerprint is not None else None
    for record in page:
        if record.sha256 == reference.sha256:
            out.append(record)
            continue
        if hist is not None and record.fingerprint is not None:
            try:
                other = Fingerprint.from_bytes(record.fingerprint).hist
            except ValueError:
                unreadable.add(record.id)
            else:
                if float(other @ hist) >= config.colour:
                    out.append(record)
                    continue
        if (
            reference.embedding is not None
            and record.embedding is not None
            and len(record.embedding) == len(reference.embedding)
            and float(np.dot(record.embedding, reference.embedding)) >= config.similar
        ):
            out.append(record)
    return out


async def get_similar(request: Request) -> SimilarCases | None:
    """The app's SimilarCases (None while starting, or in apps built without it); async, as
    api/deps.py says why."""
    return getattr(request.app.state, "similar", None)


SimilarDep = Annotated[SimilarCases | None, Depends(get_similar)]
