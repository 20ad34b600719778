"""The same photo gives the model the same pixels on every path to it: training's data
(`counterscan.training.data`), `counterscan evaluate` (`training.evaluate`), `counterscan score`
(serve/offline/score_files.py) and `POST /v1/score` (the pipeline's decode stage, with and
without a heat map); and end to end, `/v1/score` and `counterscan score` give the same scores.

Every path decodes with `counterscan.images.decode_for_model`. A second decode (another JPEG DCT
scale, another resize) moves the model input of a large JPEG by several levels and fails here:
before, the service decoded at a larger scale than training did.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from counterscan.cli import main
from counterscan.contract import INPUT_NAME
from counterscan.datasets.reader import read_dataset
from counterscan.serve.offline.score_files import prepare_file
from counterscan.serve.pipeline.decoding import decode
from counterscan.serve.pipeline.job import Job, Submission
from counterscan.serve.pipeline.prepare import DecodePool, Limits
from counterscan.serve.pipeline.stages import check_sizes
from counterscan.serve.settings import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_IMAGE_PIXELS, Settings
from counterscan.training.data import decode_photos
from counterscan.training.evaluate import open_model, score_photos

JPEG_SIZES = ((200, 150), (640, 480), (1600, 1200), (4000, 3000))
EXIF_ORIENTATION = 0x0112


def _photo(width: int, height: int, seed: int) -> Image.Image:
    """Smooth colours plus fine stripes and grain: detail that DCT scaling and resampling move."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    base = np.asarray(
        Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC), np.int16
    )
    yy, xx = np.mgrid[0:height, 0:width]
    stripes = ((xx // max(2, width // 150) + yy // max(2, height // 110)) % 2) * 36 - 18
    grain = rng.integers(-10, 11, (height, width, 1), dtype=np.int16)
    pixels = np.clip(base + stripes[..., None].astype(np.int16) + grain, 0, 255)
    return Image.fromarray(pixels.astype(np.uint8))


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A dataset folder (genuine/ only) of JPEGs of several sizes, one turned by its EXIF
    orientation, and a PNG."""
    folder = tmp_path_factory.mktemp("parity") / "genuine"
    folder.mkdir()
    paths = []
    for seed, (w, h) in enumerate(JPEG_SIZES):
        path = folder / f"p{w}x{h}.jpg"
        _photo(w, h, seed).save(path, "JPEG", quality=90)
        paths.append(path)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # shown turned by 90 degrees
    path = folder / "rotated1600x1200.jpg"
    _photo(1600, 1200, 7).save(path, "JPEG", quality=90, exif=exif)
    paths.append(path)
    path = folder / "p800x600.png"
    _photo(800, 600, 8).save(path, "PNG")
    paths.append(path)
    return sorted(paths)


def _training(paths: list[Path], size: int) -> list[np.ndarray]:
    return list(decode_photos(paths, size, threads=2, progress=False))


def _offline(paths: list[Path], size: int) -> list[np.ndarray]:
    limits = Limits(4 * DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_IMAGE_PIXELS)  # as score_paths
    out = []
    for path in paths:
        prepared = prepare_file(path, size, limits)
        assert not isinstance(prepared, Exception), prepared
        out.append(prepared.model_input)
    return out


def _service(paths: list[Path], size: int, *, heatmap: bool) -> list[np.ndarray]:
    """The decode stage of POST /v1/score, with the service's default limits."""

    async def run() -> list[np.ndarray]:
        limits = Limits.from_settings(Settings(model=None))
        pool = DecodePool(2)
        try:
            jobs = [Job(Submission(path.read_bytes())) for path in paths]
            firsts = check_sizes(jobs, limits)
            await decode(firsts, pool, size, limits, keep_photo=heatmap)
        finally:
            pool.close()
        assert all(job.prepared is not None for job in jobs), [job.refused for job in jobs]
        return [job.prepared.model_input for job in jobs if job.prepared is not None]

    return asyncio.run(run())


class RecordingSession:
    """The real ONNX Runtime session, keeping each batch `counterscan evaluate` gives it."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.batches: list[np.ndarray] = []

    def run(self, outputs: list[str], feeds: dict[str, np.ndarray]) -> Any:
        self.batches.append(feeds[INPUT_NAME].copy())
        return self.session.run(outputs, feeds)


def _evaluate(paths: list[Path], model: Path) -> tuple[list[np.ndarray], dict[str, float]]:
    session, contract = open_model(model, threads=1)
    recorder = RecordingSession(session)
    samples = read_dataset(paths[0].parent.parent, require_both=False).samples
    scored = score_photos(recorder, contract, samples, progress=False)
    by_path = {s.path: i for i, s in enumerate(scored.samples)}
    inputs = np.concatenate(recorder.batches)
    order = [by_path[p.resolve()] for p in paths]
    scores = {paths[k].name: float(scored.scores[i]) for k, i in enumerate(order)}
    return [inputs[i] for i in order], scores


def _assert_same(paths: list[Path], expected: list[np.ndarray], got: list[np.ndarray], what: str):
    assert len(got) == len(expected), what
    for path, a, b in zip(paths, expected, got, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype == np.uint8, (what, path.name)
        diff = int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())
        assert diff == 0, f"{what}: {path.name} differs from training by up to {diff} levels"


@pytest.mark.parametrize("size", [64, 224])
def test_every_path_gives_the_model_the_same_pixels(photos: list[Path], size: int) -> None:
    training = _training(photos, size)
    _assert_same(photos, training, _offline(photos, size), "counterscan score")
    _assert_same(photos, training, _service(photos, size, heatmap=False), "/v1/score")
    _assert_same(photos, training, _service(photos, size, heatmap=True), "/v1/score + heat map")


def test_evaluate_and_the_service_score_what_training_sees(
    photos: list[Path], onnx_model_path: Path, model_contract: Any, app_client: Any, tmp_path: Path
) -> None:
    size = model_contract.input_size
    training = _training(photos, size)
    evaluate_inputs, evaluate_scores = _evaluate(photos, onnx_model_path)
    _assert_same(photos, training, evaluate_inputs, "counterscan evaluate")

    served = {}
    for path in photos:
        r = app_client.post("/v1/score", files={"image": (path.name, path.read_bytes())})
        assert r.status_code == 200, r.text
        served[path.name] = r.json()["score"]

    out = tmp_path / "scores.jsonl"
    args = ["score", str(onnx_model_path), *map(str, photos), "--out", str(out)]
    assert main([*args, "--threads", "1", "--batch-size", "1"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    offline = {Path(row["path"]).name: row["score"] for row in rows}

    assert set(offline) == set(served) == {p.name for p in photos}
    for name, score in served.items():
        # One image per model call, one thread, on both sides: the same float.
        assert round(score, 6) == offline[name], name
        # evaluate batches its photos; batching may move the last bits only.
        assert abs(score - evaluate_scores[name]) < 1e-5, name


def test_the_large_jpegs_are_large_enough_to_tell_decodes_apart(photos: list[Path]) -> None:
    """Guards the test itself: on these photos a decode at another JPEG scale changes the model
    input, so a second decode could not pass unnoticed."""
    from counterscan.images import decode_image, resize_to_square

    big = next(p for p in photos if p.name == "p4000x3000.jpg")
    data = big.read_bytes()
    one = resize_to_square(decode_image(data, target=320).rgb, 224)
    other = resize_to_square(decode_image(data, target=448).rgb, 224)
    assert int(np.abs(one.astype(np.int16) - other.astype(np.int16)).max()) >= 2
    assert len(data) < Settings(model=None).max_image_bytes  # /v1/score takes it
