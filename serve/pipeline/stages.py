"""The stages of scoring, in the order `pipeline/scoring.py` runs them. Each takes the jobs it
works on (one record per image, `job.Job`) and fills in its part; an image refused at any stage
keeps its refusal and takes no further part, so one image never fails another."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from typing import Any

from counterscan.errors import CounterscanError
from counterscan.hashing import sha256_bytes
from counterscan.serve.inference.heatmap import overlay_png, to_base64
from counterscan.serve.metrics import Metrics
from counterscan.serve.pipeline.job import Job, Outcome
from counterscan.serve.pipeline.prepare import (
    DecodePool,
    ImageRejected,
    Limits,
    Prepared,
    check_size,
)
from counterscan.serve.sellers import service as listing_service
from counterscan.serve.settings import Settings
from counterscan.serve.similar.service import SimilarCases, photo_of
from counterscan.serve.storage import ItemRecord, NewImage, Store
from counterscan.serve.storage.listings import ListingInput

# Fields of an Item that a score result repeats (api/schemas/items.py ScoreResult).
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


def check_sizes(jobs: list[Job], limits: Limits) -> list[Job]:
    """Refuse (413) the images over the byte limit, hash the others and point repeats of the
    same bytes at their first submission. Returns the first submissions: the work to do."""
    firsts: dict[str, Job] = {}
    for job in jobs:
        try:
            check_size(job.sub.nbytes, limits)
        except ImageRejected as e:
            job.refused = e
            continue
        job.sha256 = sha256_bytes(job.sub.data)
        first = firsts.setdefault(job.sha256, job)
        if first is not job:
            job.first = first
    return list(firsts.values())


def look_up(store: Store, jobs: list[Job], model_version: str) -> None:
    """The stored result of these bytes scored by this model, if any (blocking: a thread)."""
    found = store.find_scored_many([job.sha256 for job in jobs], model_version)
    for job in jobs:
        job.cached = job.record = found.get(job.sha256)


def save_new(store: Store, jobs: list[Job]) -> None:
    """One row per image new to the store, all in one transaction (blocking: a thread). An image
    the store cannot keep (e.g. a listing id over its length) is refused (422), the rest saved."""
    fresh = [job for job in jobs if job.cached is None]
    if not fresh:
        return
    for job, result in zip(
        fresh, store.save_scored_many([_new_image(j) for j in fresh]), strict=True
    ):
        if isinstance(result, Exception):
            job.refused = ImageRejected(422, str(result))
        else:
            job.record = result


async def draw_heatmaps(jobs: list[Job], decoders: DecodePool) -> None:
    """The heat-map overlay of each job (decoded with `keep_photo`) as base64 PNG."""
    pictures = await asyncio.gather(*(draw_heatmap(job, decoders) for job in jobs))
    for job, png in zip(jobs, pictures, strict=True):
        job.heatmap_b64 = to_base64(png)


async def draw_heatmap(job: Job, decoders: DecodePool) -> bytes:
    photo, scored = _prepared(job).photo, job.scored
    if photo is None or scored is None:
        raise ValueError("a heat map needs the photo (keep_photo) and the model's outputs")
    return await decoders.run(overlay_png, photo, scored.cam)


def match(similar: SimilarCases, store: Store, jobs: list[Job]) -> None:
    """Match each stored image against the reviewed cases; one that matches a confirmed
    counterfeit has its priority raised (blocking: a thread)."""
    for job in jobs:
        if job.record is None:
            continue
        found = similar.match(photo_of(job.record, None))
        job.record = similar.raise_if_counterfeit(store, job.record, found)
        job.matches = [m.to_api() for m in found]


def answer(job: Job) -> Outcome:
    """The job's result body, or its refusal; repeats answer with their first submission's."""
    leader = job.leader
    refused = job.refused or leader.refused
    if refused is not None:
        return refused
    assert leader.record is not None
    was_cached = leader.cached is not None or job.first is not None
    return result_body(
        leader.record, cached=was_cached, heatmap_b64=leader.heatmap_b64, matches=leader.matches
    )


def record_sightings(store: Store, jobs: list[Job]) -> None:
    """The same photo submitted again (e.g. in another listing) is evidence too: keep where it
    was seen (blocking: a thread)."""
    for job in jobs:
        record, sub = job.leader.record, job.sub
        assert record is not None
        # An over-long listing id: the score was still answered; there is nothing to keep.
        with contextlib.suppress(CounterscanError):
            store.record_sighting(record, listing_id=sub.listing_id, source=sub.source, url=sub.url)


def has_listings(jobs: list[Job]) -> bool:
    return any(job.sub.listing_id is not None for job in jobs)


def record_listings(store: Store, settings: Settings, jobs: list[Job]) -> None:
    """The listings these photos belong to (those sent with a listing_id), with their sellers
    and signals (sellers/service.py); several photos of one listing in one request make one
    update (blocking: a thread)."""
    groups: dict[tuple[str, str], tuple[ListingInput, list[str]]] = {}
    for job in jobs:
        sub, leader = job.sub, job.leader
        if sub.listing_id is None or job.refused or leader.refused or leader.record is None:
            continue
        key = (sub.source or "", sub.listing_id)
        info = ListingInput(
            source=key[0],
            listing_id=key[1],
            url=sub.url,
            seller_id=sub.seller_id,
            seller_name=sub.seller_name,
            title=sub.title,
            text=sub.text,
            price=sub.price,
            category=sub.category,
        )
        if key in groups:  # later photos' fields fill in what earlier ones left out
            before, ids = groups[key]
            sent = {k: v for k, v in vars(info).items() if v is not None}
            info = replace(before, **sent)
        else:
            ids = []
        ids.append(leader.record.id)
        groups[key] = (info, ids)
    if groups:
        listing_service.record(store, settings, list(groups.values()))


def count(metrics: Metrics, outcomes: list[Outcome]) -> None:
    counter = metrics.images
    for outcome in outcomes:
        if isinstance(outcome, ImageRejected):
            counter.labels("error").inc()
        else:
            counter.labels("cached" if outcome["cached"] else "scored").inc()


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


def _prepared(job: Job) -> Prepared:
    assert job.prepared is not None, "the job was not decoded"
    return job.prepared


def _new_image(job: Job) -> NewImage:
    prepared, scored, sub = _prepared(job), job.scored, job.sub
    assert scored is not None
    contract = scored.scorer.contract  # the model that actually scored it
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
        "fingerprint": job.fingerprint,
    }
    return NewImage(sub.data, fields, stored=True)  # kept by decoding.decode_score_keep
