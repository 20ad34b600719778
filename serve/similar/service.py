"""Similar cases in the running service: the reference sets, kept in step with the verdicts.

    cases = SimilarCases(MatchConfig(...)); cases.load(store)      at start-up
    matches = cases.match(photo)                                   at scoring time
    new = cases.on_verdict(store, item)                            after every verdict
    cases.reflag(store, new)                                       (in the background)
    sync.VerdictFollower(cases, store, interval_s).start()         verdicts given elsewhere

Items whose current verdict is `counterfeit` are the references; `genuine` ones the known-good
set (their matches are shown, they never raise a priority). An unreviewed item that matches a
confirmed counterfeit (any kind) is raised to priority `high`, and `items.priority_reason` says
which case it matched; the queue ranks it first. A new counterfeit verdict also scans the
unreviewed queue for items that match the new reference (`reflag`). Raised priorities are not
lowered again if the reference's verdict changes later: the inspector sees the reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
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
from counterscan.serve.storage import ItemRecord, Store

log = logging.getLogger(__name__)

REFERENCE_VERDICTS = ("counterfeit", "genuine")
_DECODE_SIDE = 320  # fingerprints made from stored evidence decode at about this size
_REFLAG_PAGE = 500


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

    def reflag_soon_and_later(self, store: Store, reference: Photo, item: ItemRecord) -> None:
        """After a counterfeit verdict given here: the re-flag scan now (blocking: call it in
        the background), and again once every other process follows the verdict (sync.py)."""
        if self.rescan_later is not None and item.verdict is not None:
            self.rescan_later(reference, item.verdict.created_at)
        self.reflag(store, reference)

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
        reference: Photo,
        pages: Iterable[list[ItemRecord]] | None = None,
    ) -> list[str]:
        """Raise unreviewed items that match `reference` (a new confirmed counterfeit).
        `pages`: the items to look at (sync.py's late scan); default the whole queue."""
        single = ReferenceSet("counterfeit")
        single.add(reference)
        raised: list[tuple[ItemRecord, Match]] = []
        unreadable: list[str] = []
        for page in _unreviewed_pages(store) if pages is None else pages:
            for record in _plausible(page, reference, self.config, unreadable):
                found = match_photo(photo_of(record, None), [single], self.config)
                if found and record.priority_reason is None:
                    raised.append((record, found[0]))
        # Raised only after the scan: raising reorders the queue the scan pages through.
        done = [r.id for r, m in raised if store.raise_priority(r.id, reason_for(m))]
        if unreadable:
            # One bad row must not stop the scan: compared without its colours, and counted.
            self.unreadable_fingerprints += len(unreadable)
            log.warning(
                "similar cases: %d queued items have an unreadable fingerprint (e.g. %s); "
                "matched without it",
                len(unreadable),
                ", ".join(unreadable[:5]),
            )
        if done:
            log.info(
                "similar cases: %d queued items match new counterfeit %s",
                len(done),
                reference.item_id,
            )
        return done


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


def _unreviewed_pages(store: Store) -> Iterable[list[ItemRecord]]:
    offset = 0
    while True:
        page, total = store.queue(status="unreviewed", limit=_REFLAG_PAGE, offset=offset)
        if not page:
            return
        yield page
        offset += len(page)
        if offset >= total:
            return


def _plausible(
    page: list[ItemRecord], reference: Photo, config: MatchConfig, unreadable: list[str]
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
                unreadable.append(record.id)
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


def get_similar(request: Request) -> SimilarCases | None:
    """The app's SimilarCases (None while starting, or in apps built without it)."""
    return getattr(request.app.state, "similar", None)


SimilarDep = Annotated[SimilarCases | None, Depends(get_similar)]
