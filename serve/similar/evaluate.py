"""Measure matching on transformed copies: how many copies find their original (recall), how
many reported matches are right (precision). Used by tests/serve/similar/test_quality.py and
bench/bench_similar.py; torch-free, works on any folder of photos.

A reported match is right when it points at the query's own original or at another photo of the
same item (same product, same group); any match to another item is wrong. A copy is found when
its original is among its matches as `exact` or `near_duplicate`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from counterscan.images import decode_image
from counterscan.serve.similar.fingerprint import fingerprint
from counterscan.serve.similar.matching import MatchConfig, match_photo
from counterscan.serve.similar.references import Photo, ReferenceSet

Transform = Callable[[Image.Image, np.random.Generator], Image.Image]


def _crop(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = img.size
    return img.crop((round(left * w), round(top * h), round(w - right * w), round(h - bottom * h)))


def watermark(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A half-transparent shop name across the middle and an opaque sticker in a corner."""
    base = img.convert("RGBA")
    over = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(over)
    w, h = base.size
    font = ImageFont.load_default(size=max(10, h // 8))
    draw.text(
        (w * 0.1, h * 0.4), f"shop-{rng.integers(1000)}.vn", fill=(255, 255, 255, 150), font=font
    )
    draw.rectangle((w * 0.7, h * 0.8, w * 0.98, h * 0.97), fill=(200, 30, 30, 200))
    return Image.alpha_composite(base, over).convert("RGB")


def _scaled(img: Image.Image, factor: float) -> Image.Image:
    return img.resize((max(1, round(img.width * factor)), max(1, round(img.height * factor))))


# name -> (transform, JPEG quality of the copy)
COPIES: dict[str, tuple[Transform, int]] = {
    "jpeg_q40": (lambda im, rng: im, 40),
    "half_size": (lambda im, rng: _scaled(im, 0.5), 75),
    "double_size": (lambda im, rng: _scaled(im, 2.0), 85),
    "crop_10_centre": (lambda im, rng: _crop(im, 0.05, 0.05, 0.05, 0.05), 75),
    "crop_20_centre": (lambda im, rng: _crop(im, 0.1, 0.1, 0.1, 0.1), 75),
    "crop_20_side": (lambda im, rng: _crop(im, 0.2, 0, 0, 0), 75),
    "crop_20_corner": (lambda im, rng: _crop(im, 0, 0, 0.2, 0.2), 75),
    "crop_uneven": (lambda im, rng: _crop(im, 0.15, 0.05, 0.0, 0.12), 75),
    "watermark": (watermark, 75),
    "all_at_once": (
        lambda im, rng: _scaled(watermark(_crop(im, 0.12, 0.08, 0.04, 0.1), rng), 0.7),
        60,
    ),
}


def make_copy(data: bytes, kind: str, rng: np.random.Generator) -> bytes:
    transform, quality = COPIES[kind]
    with Image.open(io.BytesIO(data)) as img:
        out = transform(img.convert("RGB"), rng)
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@dataclass(frozen=True)
class Labelled:
    item_id: str
    data: bytes
    group: str  # photos of one item share it
    original: str | None = None  # a copy: the item_id it was made from


@dataclass
class Report:
    true_matches: int = 0
    false_matches: int = 0
    copies: int = 0
    copies_found: int = 0
    missed: dict[str, int] = field(default_factory=dict)  # copy kind -> copies not found
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # (query, match, kind)

    @property
    def precision(self) -> float:
        reported = self.true_matches + self.false_matches
        return self.true_matches / reported if reported else 1.0

    @property
    def recall(self) -> float:
        return self.copies_found / self.copies if self.copies else 1.0


Embed = Callable[[Sequence[bytes]], np.ndarray]  # image bytes -> (N, D) unit embeddings


def photos(items: Sequence[Labelled], embed: Embed | None) -> list[Photo]:
    embeddings = embed([i.data for i in items]) if embed is not None else [None] * len(items)
    return [
        Photo(i.item_id, _sha(i.data), fingerprint(decode_image(i.data).rgb), e)
        for i, e in zip(items, embeddings, strict=True)
    ]


def evaluate(
    references: Sequence[Labelled],
    queries: Sequence[Labelled],
    *,
    embed: Embed | None = None,
    config: MatchConfig | None = None,
    verdict: str = "counterfeit",
) -> Report:
    refs = ReferenceSet(verdict)
    for photo in photos(references, embed):
        refs.add(photo)
    group = {r.item_id: r.group for r in references}
    report = Report()
    for query, photo in zip(queries, photos(queries, embed), strict=True):
        matches = match_photo(photo, [refs], config)
        for m in matches:
            if m.item_id == query.original or group.get(m.item_id) == query.group:
                report.true_matches += 1
            else:
                report.false_matches += 1
                report.wrong.append((query.item_id, m.item_id, m.kind))
        if query.original is not None:
            report.copies += 1
            kind = query.item_id.rsplit(":", 1)[-1]
            if any(
                m.item_id == query.original and m.kind in ("exact", "near_duplicate")
                for m in matches
            ):
                report.copies_found += 1
            else:
                report.missed[kind] = report.missed.get(kind, 0) + 1
    return report


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
