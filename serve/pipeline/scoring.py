"""Score submitted images: the use case behind `POST /v1/score` (one image) and
`POST /v1/score/batch` (many).

    admit -> check sizes -> look up -> decode -> infer (+ keep evidence) -> store -> heat maps
          -> match similar cases -> answer -> record sightings -> record listings and sellers

(decode, infer and keep evidence overlap: `decoding.py`).

Every image gets its own result or its own refusal; nothing one image does can fail another.
The same bytes scored by the same model are answered from the store (`cached: true`) without
decoding them again, unless a heat map is asked for (the map needs the model's activation map).
The stages are in `decoding.py` and `stages.py`; each fills in its part of one record per
image (`job.Job`).
"""

from __future__ import annotations

import anyio.to_thread

from counterscan.serve.inference.served import ServedModel
from counterscan.serve.metrics import Metrics
from counterscan.serve.pipeline import decoding, stages
from counterscan.serve.pipeline.admission import ImageBudget
from counterscan.serve.pipeline.job import Job, Outcome, Submission
from counterscan.serve.pipeline.prepare import DecodePool, Limits
from counterscan.serve.settings import Settings
from counterscan.serve.similar.service import SimilarCases
from counterscan.serve.storage import Store


class Scoring:
    """What scoring needs besides the store: the model being served, the limits, the bound on
    images in flight and the decoding threads. One per app (`app.state.scoring`)."""

    def __init__(self, model: ServedModel, settings: Settings, metrics: Metrics) -> None:
        self.model = model
        self.limits = Limits.from_settings(settings)
        self.budget = ImageBudget(settings.max_inflight_images)
        self.decoders = DecodePool(settings.decode_threads)
        self.metrics = metrics
        self.settings = settings

    def close(self) -> None:
        self.decoders.close()

    async def score(
        self,
        submissions: list[Submission],
        store: Store,
        *,
        heatmap: bool = False,
        similar: SimilarCases | None = None,
    ) -> list[Outcome]:
        """One outcome per submission, in order: the result body, or the ImageRejected.
        `similar`: match each image against the reviewed cases and raise the priority of those
        that match a confirmed counterfeit. Waits first while the service holds as many images
        as it may (admission.py), so its memory stays bounded under load."""
        async with self.budget.hold(len(submissions)):
            jobs = [Job(sub) for sub in submissions]
            firsts = stages.check_sizes(jobs, self.limits)
            model_version = self.model.contract.model_version
            await anyio.to_thread.run_sync(stages.look_up, store, firsts, model_version)
            to_run = [job for job in firsts if heatmap or job.cached is None]
            runs = await decoding.decode_score_keep(
                to_run, self.decoders, self.model, store, self.limits, keep_photo=heatmap
            )
            if any(job.cached is None for job in runs):
                await anyio.to_thread.run_sync(stages.save_new, store, runs)
            if heatmap:
                await stages.draw_heatmaps(
                    [job for job in runs if job.refused is None], self.decoders
                )
            if similar is not None and len(similar):
                await anyio.to_thread.run_sync(stages.match, similar, store, firsts)
            outcomes = [stages.answer(job) for job in jobs]
            seen_again = [
                job
                for job, outcome in zip(jobs, outcomes, strict=True)
                if isinstance(outcome, dict) and outcome["cached"]
            ]
            if seen_again:
                await anyio.to_thread.run_sync(stages.record_sightings, store, seen_again)
            if stages.has_listings(jobs):
                await anyio.to_thread.run_sync(stages.record_listings, store, self.settings, jobs)
        stages.count(self.metrics, outcomes)
        return outcomes

    async def heatmap_png(self, data: bytes) -> bytes:
        """PNG heat map of stored image bytes, drawn by the model served now. Raises
        ImageRejected."""
        job = Job(Submission(data))
        stages.check_sizes([job], self.limits)
        if job.refused is None:
            size = self.model.contract.input_size
            await decoding.decode([job], self.decoders, size, self.limits, keep_photo=True)
        if job.refused is not None:
            raise job.refused
        assert job.prepared is not None
        (job.scored,) = await self.model.score([job.prepared.model_input])
        return await stages.draw_heatmap(job, self.decoders)
