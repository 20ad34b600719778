"""Turn a genuine Design into a counterfeit copy, the way real counterfeits differ.

Every defect edits the Design and records its name in `design.defects` (the manifest's `defects`
column). Difficulty sets how many defects a copy has and how large they are: easy copies have
two or three blatant ones, hard copies one (sometimes two) that a careful inspector still spots.

On hard, reprint blur and colour shift are not counterfeit cues at all: `print_variation` gives
genuine and counterfeit items the same distribution of them (batches differ, photos differ), so
only product-specific defects separate the classes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import numpy as np

from counterscan.datasets.synth_marks import OBVIOUS_SHAPE, SUBTLE_SHAPE
from counterscan.datasets.synth_products import RGB, Design
from counterscan.datasets.synth_text import OTHER_WEIGHT

DIFFICULTIES = ("easy", "medium", "hard")
# Look-alike substitutions a careless or deceptive printer makes.
LOOKALIKE = {"m": "rn", "rn": "m", "O": "0", "o": "0", "l": "I", "I": "l", "i": "í", "e": "c"}
ONE_MARK_LESS = {"Đ": "D", "đ": "d", "ơ": "o", "ư": "u", "â": "a", "ô": "o", "ă": "a", "ê": "e"}
FAKE_CERTS = {
    "ISO 22000": ("ISO 2200", "IS0 22000"), "HACCP": ("HACPP", "HACCF"), "VietGAP": ("VietGAB", "VietCAP"),
    "GMP": ("GNP", "GMP+"), "ISO 22716": ("ISO 2276", "ISO 22761"), "FSSC 22000": ("FSCC 22000", "FSSC 2200"),
    "GMP-WHO": ("GMP-WH0", "GNP-WHO"), "CE": ("C E", "CЄ"), "CR": ("CK", "C R"), "RoHS": ("RoSH", "ROHS"),
}  # fmt: skip


def _strip(ch: str) -> str:
    """`ch` without any diacritic ("ữ" -> "u", "Đ" -> "D")."""
    if ch in ONE_MARK_LESS:
        return ONE_MARK_LESS[ch]
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return ONE_MARK_LESS.get(base, base)


def _drop_one_mark(ch: str) -> str:
    """Remove one layer of diacritic: "ữ" -> "ư" (tone mark gone), "ư" -> "u"."""
    nfd = unicodedata.normalize("NFD", ch)
    if len(nfd) > 1:
        return unicodedata.normalize("NFC", nfd[:-1])
    return ONE_MARK_LESS.get(ch, ch)


def subtle_misspellings(text: str) -> list[str]:
    """Edits a shopper misses at a glance: look-alike letters, one diacritic missing."""
    out = []
    for old, new in LOOKALIKE.items():
        i = text.find(old)
        if i >= 0:
            out.append(text[:i] + new + text[i + len(old) :])
    for i, ch in enumerate(text):
        if _drop_one_mark(ch) != ch:
            out.append(text[:i] + _drop_one_mark(ch) + text[i + 1 :])
    return out


def obvious_misspellings(text: str) -> list[str]:
    """Edits an inspector sees: swapped, doubled or dropped letters, all diacritics gone."""
    inner = [i for i, ch in enumerate(text) if ch.isalpha()][1:-1]  # first and last letters stay
    out = []
    for i in inner:
        if i + 1 in inner and text[i] != text[i + 1]:
            out.append(text[:i] + text[i + 1] + text[i] + text[i + 2 :])  # swapped
        out.append(text[:i] + text[i] + text[i:])  # doubled
        out.append(text[:i] + text[i + 1 :])  # dropped
    stripped = "".join(_strip(c) for c in text)
    if stripped != text:
        out.extend([stripped] * max(1, len(out) // 3))
    return out


def _misspell(text: str, rng: np.random.Generator, level: str) -> str:
    subtle, obvious = subtle_misspellings(text), obvious_misspellings(text)
    if level == "hard" or (level == "medium" and rng.random() < 0.5):
        options = subtle or obvious
    else:
        options = obvious or subtle
    return options[int(rng.integers(len(options)))]


def _hue_rotate(c: RGB, degrees: float) -> RGB:
    """Rotate an RGB colour's hue (Rodrigues rotation about the grey axis)."""
    a = np.deg2rad(degrees)
    k = np.ones(3) / np.sqrt(3)
    v = np.asarray(c, dtype=np.float64)
    v = v * np.cos(a) + np.cross(k, v) * np.sin(a) + k * k.dot(v) * (1 - np.cos(a))
    return tuple(int(x) for x in np.clip(np.round(v), 0, 255))


def _scale(level: str, easy: float, medium: float, hard: float, rng: np.random.Generator) -> float:
    """A magnitude for `level`: uniform between 80% and 120% of the level's typical value."""
    base = {"easy": easy, "medium": medium, "hard": hard}[level]
    return base * float(rng.uniform(0.8, 1.2))


def misspelt_brand(d: Design, rng: np.random.Generator, level: str) -> None:
    d.brand_text = _misspell(d.brand_text, rng, level)


def misspelt_text(d: Design, rng: np.random.Generator, level: str) -> None:
    if level == "easy":  # no Vietnamese diacritics at all: a foreign print shop
        d.origin = "".join(_strip(c) for c in d.origin)
        d.product = "".join(_strip(c) for c in d.product)
    elif rng.random() < 0.3:
        d.origin = _misspell(d.origin, rng, level)
    else:  # the product name is printed larger: the more common place to catch a typo
        d.product = _misspell(d.product, rng, level)


def logo_shape(d: Design, rng: np.random.Generator, level: str) -> None:
    if level == "easy":
        d.logo_shape, d.logo_letter = OBVIOUS_SHAPE[d.logo_shape], ""
        return
    choice = int(rng.integers(3 if level == "hard" else 4))
    if choice == 0:
        d.logo_shape = SUBTLE_SHAPE[d.logo_shape]
    elif choice == 1:  # redrawn initial: a neighbouring letter or lower case
        letter = d.logo_letter
        d.logo_letter = letter.lower() if letter.lower() != letter else chr(ord(letter) + 1)
    elif choice == 2:  # the ring printed in the fill colour
        d.logo_colours = (d.logo_colours[0], d.logo_colours[0])
    else:
        d.logo_shape = OBVIOUS_SHAPE[d.logo_shape]


def logo_colour(d: Design, rng: np.random.Generator, level: str) -> None:
    shift = _scale(level, 120, 60, 28, rng) * _sign(rng)
    d.logo_colours = tuple(_hue_rotate(c, shift) for c in d.logo_colours)


def missing_hologram(d: Design, rng: np.random.Generator, level: str) -> None:
    d.hologram = "missing"


def fake_hologram(d: Design, rng: np.random.Generator, level: str) -> None:
    """Easy: plain silver foil. Harder: a printed imitation with weak colours and no micro-lines,
    sometimes with its text misspelt as well."""
    d.hologram = "flat" if level == "easy" or (level == "medium" and rng.random() < 0.5) else "dull"
    if level != "easy" and rng.random() < 0.5:
        d.hologram_text = _misspell(d.hologram_text, rng, "hard")


def missing_cert(d: Design, rng: np.random.Generator, level: str) -> None:
    d.cert = ""


def fake_cert(d: Design, rng: np.random.Generator, level: str) -> None:
    options = FAKE_CERTS[d.cert]
    d.cert = options[int(rng.integers(len(options)))]
    if level != "hard":
        d.cert_rings = 1


def _sign(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.5 else -1


def misaligned_label(d: Design, rng: np.random.Generator, level: str) -> None:
    shift = _scale(level, 0.07, 0.045, 0.028, rng)
    angle = _scale(level, 3.0, 1.8, 1.0, rng)
    d.label_shift = (shift * _sign(rng), shift * 0.6 * _sign(rng), angle * _sign(rng))


def wrong_font_weight(d: Design, rng: np.random.Generator, level: str) -> None:
    d.brand_font = OTHER_WEIGHT[d.brand_font]


def reprint_blur(d: Design, rng: np.random.Generator, level: str) -> None:
    d.print_blur = _scale(level, 1.6, 1.0, 0.6, rng)
    d.print_fade = _scale(level, 0.5, 0.3, 0.15, rng)


def colour_shift(d: Design, rng: np.random.Generator, level: str) -> None:
    d.print_hue = _scale(level, 45, 22, 10, rng) * _sign(rng)


Defect = Callable[[Design, np.random.Generator, str], None]
DEFECTS: dict[str, Defect] = {f.__name__: f for f in (
    misspelt_brand, misspelt_text, logo_shape, logo_colour, missing_hologram, fake_hologram,
    missing_cert, fake_cert, misaligned_label, wrong_font_weight, reprint_blur, colour_shift,
)}  # fmt: skip
GLOBAL_DEFECTS = ("reprint_blur", "colour_shift")  # not counterfeit cues on hard (see module doc)
DEFECT_COUNTS = {"easy": (2, 3, 3), "medium": (1, 1, 2), "hard": (1, 1, 1, 1, 2)}


def _applicable(d: Design, name: str, level: str) -> bool:
    if level == "hard" and name in GLOBAL_DEFECTS:
        return False
    if name in ("missing_hologram", "fake_hologram"):
        return d.hologram == "genuine"
    if name in ("missing_cert", "fake_cert"):
        return d.cert in FAKE_CERTS
    return True


def make_counterfeit(d: Design, rng: np.random.Generator, level: str) -> Design:
    """Apply 1-3 defects (by `level`) to `d` in place and return it."""
    counts = DEFECT_COUNTS[level]
    for _ in range(counts[int(rng.integers(len(counts)))]):
        pool = [n for n in DEFECTS if n not in d.defects and _applicable(d, n, level)]
        name = pool[int(rng.integers(len(pool)))]
        DEFECTS[name](d, rng, level)
        d.defects.append(name)
    return d


def print_variation(d: Design, rng: np.random.Generator) -> None:
    """Batch-to-batch print variation on hard, for both classes: blur, hue drift, fading."""
    if rng.random() < 0.5:
        d.print_blur = float(rng.uniform(0.3, 1.0))
    if rng.random() < 0.5:
        d.print_hue = float(rng.uniform(-12, 12))
    if rng.random() < 0.3:
        d.print_fade = float(rng.uniform(0.1, 0.25))
