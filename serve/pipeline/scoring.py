"""Score submitted images end to end: size check, cache lookup, decode, model, storage.

Shared by `POST /v1/score` (one image) and `POST /v1/score/batch` (many). Every image gets its
own result or its own error; nothing one image does can fail another. The same bytes scored by
the same model are answered from the store (`cached: true`), without decoding them again, unless
a heat map is asked for (the map needs the model's activation map).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from counterscan.contract import ModelContract
from counterscan.errors import CounterscanError
from counterscan.hashing import sha256_bytes
from counterscan.serve.inference.batching import Scored
from counterscan.serve.inference.engine import Engine
from counterscan.serve.inference.heatmap import to_base64
from counterscan.serve.pipeline.prepare import ImageRejected, Prepared, check_size
from counterscan.serve.similar.fingerprint import fingerprint
from counterscan.serve.similar.service import SimilarCases, photo_of
from counterscan.serve.storage import ItemRecord, NewImage, Store

# Fields of an Item that a score result repeats (notes/api.md, POST /v1/score).
RESULT_FIELDS = (
    "id",
    "score",
    "priority",
    "model_version",
    "sha256",
    "phash",
    "listing_id",
    "source",
    "url",
    "created_at",
)


@dataclass(frozen=True)
class Submission:
    data: bytes
    listing_id: str | None = None
    source: str | None = None
    url: str | None = None


Outcome = dict[str, Any] | ImageRejected


async def score_submissions(
    submissions: list[Submission],
    engine: Engine,
    store: Store,
    *,
    heatmap: bool = False,
    similar: SimilarCases | None = None,
) -> list[Outcome]:
    """One outcome per submission, in order: the result dict, or the ImageRejected.
    `similar`: match each image against the reviewed cases (serve/similar) and raise the
    priority of those that match a confirmed counterfeit. Waits first while the service holds
    as many images as it may (engine.admission), so its memory stays bounded under load."""
    async with engine.admission.hold(len(submissions)):
        return await _score(submissions, engine, store, heatmap=heatmap, similar=similar)


async def _score(
    submissions: list[Submission],
    engine: Engine,
    store: Store,
    *,
    heatmap: bool,
    similar: SimilarCases | None,
) -> list[Outcome]:
    n = len(submissions)
    outcomes: list[Outcome | None] = [None] * n
    shas: list[str | None] = [None] * n
    for i, sub in enumerate(submissions):
        try:
            check_size(sub.data, engine.limits)
            shas[i] = sha256_bytes(sub.data)
        except ImageRejected as e:
            outcomes[i] = e

    model_version = engine.contract.model_version
    unique = sorted({s for s in shas if s is not None})
    cached: dict[str, ItemRecord | None] = await anyio.to_thread.run_sync(
        lambda: {sha: store.find_scored(sha, model_version) for sha in unique}
    )

    # The first submission of each new image is decoded and scored; repeats share its result.
    # With a heat map asked for, cached images are decoded and scored too (for the map only).
    first: dict[str, int] = {}
    for i, sha in enumerate(shas):
        if sha is not None and sha not in first and (heatmap or cached[sha] is None):
            first[sha] = i
    to_run = list(first.values())
    prepared = await engine.prepare_many(
        [submissions[i].data for i in to_run],
        keep_photo=heatmap,
        sha256s=[shas[i] or "" for i in to_run],
    )
    good = [(i, p) for i, p in zip(to_run, prepared, strict=True) if isinstance(p, Prepared)]
    for i, p in zip(to_run, prepared, strict=True):
        if isinstance(p, ImageRejected):
            outcomes[i] = p
    # The evidence files are written while the model runs, several at once (their fsync waits
    # overlap inference and each other); save_scored then finds them in place and adds the row.
    fresh = [(submissions[i].data, p) for i, p in good if cached[p.sha256] is None]
    scored, *_ = await asyncio.gather(
        engine.score([p for _, p in good]),
        *(
            anyio.to_thread.run_sync(store.keep_evidence, data, p.sha256, p.photo)
            for data, p in fresh
        ),
    )
    runs: dict[str, tuple[Prepared, Scored]] = {
        p.sha256: (p, s) for (_, p), s in zip(good, scored, strict=True)
    }

    new_records = await anyio.to_thread.run_sync(_save_new, store, submissions, first, cached, runs)
    pictures: dict[str, str] = {}
    if heatmap:
        for sha, (p, s) in runs.items():
            pictures[sha] = to_base64(await engine.heatmap_for(p, s))
    matches: dict[str, list[dict[str, Any]]] = {}
    if similar is not None and len(similar):
        records = {sha: cached.get(sha) or new_records.get(sha) for sha in unique}
        found = await anyio.to_thread.run_sync(_match_all, similar, store, records)
        for sha, (record, found_matches) in found.items():
            (cached if cached.get(sha) is not None else new_records)[sha] = record
            matches[sha] = found_matches

    repeats: list[tuple[ItemRecord, Submission]] = []
    for i, sha in enumerate(shas):
        if outcomes[i] is not None or sha is None:
            continue
        leader = first.get(sha)
        if leader is not None and isinstance(outcomes[leader], ImageRejected):
            outcomes[i] = outcomes[leader]  # a repeat of a rejected image
            continue
        record = cached.get(sha) or new_records[sha]
        if isinstance(record, ImageRejected):
            outcomes[i] = record
            continue
        was_cached = cached.get(sha) is not None or leader != i
        if was_cached:
            repeats.append((record, submissions[i]))
        outcomes[i] = result_body(
            record, cached=was_cached, heatmap_b64=pictures.get(sha), matches=matches.get(sha)
        )
    if repeats:
        # The same photo in another listing is evidence too: keep where it was seen again.
        await anyio.to_thread.run_sync(_record_sightings, store, repeats)

    final: list[Outcome] = [o for o in outcomes if o is not None]
    assert len(final) == n
    _count(engine, final)
    return final


def _match_all(
    similar: SimilarCases, store: Store, records: dict[str, Any]
) -> dict[str, tuple[ItemRecord, list[dict[str, Any]]]]:
    """sha256 -> (the record, its priority raised if it matches a counterfeit; its matches)."""
    out = {}
    for sha, record in records.items():
        if isinstance(record, ItemRecord):
            found = similar.match(photo_of(record, None))
            record = similar.raise_if_counterfeit(store, record, found)
            out[sha] = (record, [m.to_api() for m in found])
    return out


def _record_sightings(store: Store, repeats: list[tuple[ItemRecord, Submission]]) -> None:
    for record, sub in repeats:
        # An over-long listing id: the score was still answered; there is nothing to keep.
        with contextlib.suppress(CounterscanError):
            store.record_sighting(record, listing_id=sub.listing_id, source=sub.source, url=sub.url)


def _save_new(
    store: Store,
    submissions: list[Submission],
    first: dict[str, int],
    cached: dict[str, ItemRecord | None],
    runs: dict[str, tuple[Prepared, Scored]],
) -> dict[str, ItemRecord | ImageRejected]:
    """One row per newly scored image, all in one transaction (Store.save_scored_many)."""
    shas = [sha for sha in runs if cached.get(sha) is None]
    images = [_new_image(submissions[first[sha]], *runs[sha]) for sha in shas]
    saved: dict[str, ItemRecord | ImageRejected] = {}
    for sha, result in zip(shas, store.save_scored_many(images), strict=True):
        # e.g. a listing id longer than the store keeps: the image is refused, the rest saved
        saved[sha] = ImageRejected(422, str(result)) if isinstance(result, Exception) else result
    return saved


def _new_image(sub: Submission, prepared: Prepared, scored: Scored) -> NewImage:
    contract: ModelContract = scored.scorer.contract  # the model that actually scored it
    fields = {
        "sha256": prepared.sha256,
        "phash": prepared.phash,
        "score": scored.prob,
        "priority": contract.thresholds.priority(scored.prob),
        "model_version": contract.model_version,
        "listing_id": sub.listing_id,
        "source": sub.source,
        "url": sub.url,
        "width": prepared.width,
        "height": prepared.height,
        "embedding": scored.embedding,
        "fingerprint": fingerprint(
            prepared.photo if prepared.photo is not None else prepared.model_input
        ).to_bytes(),
    }
    return NewImage(sub.data, fields, prepared.photo, stored=True)  # written by _score


def result_body(
    record: ItemRecord,
    *,
    cached: bool,
    heatmap_b64: str | None,
    matches: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    item = record.to_api()
    body = {key: item[key] for key in RESULT_FIELDS}
    body["cached"] = cached
    body["heatmap_png_base64"] = heatmap_b64
    body["priority_reason"] = record.priority_reason
    body["matches"] = matches or []
    return body


def _count(engine: Engine, outcomes: list[Outcome]) -> None:
    counter = engine.metrics.images
    for outcome in outcomes:
        if isinstance(outcome, ImageRejected):
            counter.labels("error").inc()
        else:
            counter.labels("cached" if outcome["cached"] else "scored").inc()
