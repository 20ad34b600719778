"""Signals in a listing's words and price, as pure functions (no database, no I/O).

Each signal is a named, explained reason: `{"signal": name, "detail": words}`.

- `contact_details`: Vietnamese mobile numbers in their common spellings (0912 345 678,
  0912.345.678, 091-234-5678, +84 912 345 678, 84-912345678, (+84) 912...) and Zalo ids
  ("zalo: shopabc", "zalo.me/0912345678"). Sellers move buyers to a chat to dodge the
  platform; the same number on two sellers links them. Numbers are normalised to 10 digits
  starting with 0 (0912345678), Zalo ids to lower case.
- `disguised_brand`: a brand name written so that a platform's keyword filter misses it:
  letters split by dots or spaces ("N.i.k.e", "ni ke"), digits for letters ("Nik3", "G0cci"),
  doubled letters ("adidass"), accents ("Níke"). A plain "Nike" is not a signal (genuine shops
  name their brand). Normalisation: accents dropped, lower case, 0->o 1->i 3->e 4->a 5->s 7->t
  @->a $->s, everything but letters removed, runs of one letter collapsed; then up to four
  neighbouring words are joined and compared with the brand normalised the same way.
- `low_price`: the price is below `ratio` x the median price of the category's listings
  confirmed genuine, once there are at least `min_samples` of them.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from typing import Any

Reason = dict[str, Any]

# Brands whose names counterfeit sellers disguise most in our users' markets (small on
# purpose: each entry is a word that must not occur in ordinary Vietnamese or English text).
BRANDS = (
    "nike", "adidas", "gucci", "chanel", "rolex", "puma", "dior", "hermes", "balenciaga",
    "louis vuitton", "supreme", "converse", "vans", "yeezy", "casio",
)  # fmt: skip
MAX_WORDS = 4  # "n i k e" is four words

_PHONE = re.compile(
    r"(?<![\d+])(?:\(?\+?\s?84\)?|0)(?:[\s.\-]{0,2}\d){9}(?!\d)",
)
_ZALO = re.compile(r"zalo(?:\.me/|\s*(?:id)?\s*[:\-]?\s*)([A-Za-z0-9_.+\-]{3,40})", re.I)
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_MOBILE = re.compile(r"^0[35789]\d{8}$")


def normalise_phone(raw: str) -> str | None:
    """'+84 912.345.678' -> '0912345678'; None when it is not a Vietnamese mobile number."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _MOBILE.match(digits) else None


def find_contacts(*texts: str | None) -> list[tuple[str, str]]:
    """(kind, value) pairs, kind "phone" or "zalo", each once, in order of appearance."""
    found: dict[tuple[str, str], None] = {}
    for text in texts:
        if not text:
            continue
        for match in _PHONE.finditer(text):
            phone = normalise_phone(match.group(0))
            if phone:
                found[("phone", phone)] = None
        for match in _ZALO.finditer(text):
            token = match.group(1).strip(".-")
            phone = normalise_phone(token)
            if phone:
                found[("phone", phone)] = None
            elif re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]{2,39}", token):
                found[("zalo", token.lower())] = None
    return list(found)


def _squash(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower().translate(_LEET)
    letters = re.sub(r"[^a-z]", "", plain)
    return re.sub(r"(.)\1+", r"\1", letters)


_BRAND_KEYS = {_squash(b): b for b in BRANDS}


def find_disguised_brands(*texts: str | None) -> list[tuple[str, str]]:
    """(brand, as written) for each disguised brand name, each brand once."""
    found: dict[str, str] = {}
    for text in texts:
        if not text:
            continue
        words = text.split()
        for start in range(len(words)):
            for width in range(1, MAX_WORDS + 1):
                window = words[start : start + width]
                if len(window) < width:
                    break
                written = " ".join(window)
                brand = _BRAND_KEYS.get(_squash(written))
                if brand is None or brand in found:
                    continue
                if written.strip(".,!?:;()[]\"'").lower() == brand:
                    continue  # the brand named plainly
                found[brand] = written
    return list(found.items())


def contact_reason(contacts: list[tuple[str, str]]) -> Reason | None:
    if not contacts:
        return None
    shown = ", ".join(f"{kind} {value}" for kind, value in contacts)
    return {"signal": "contact_details", "detail": f"contact details in the listing: {shown}"}


def brand_reason(brands: list[tuple[str, str]]) -> Reason | None:
    if not brands:
        return None
    shown = ", ".join(f'"{written}" ({brand})' for brand, written in brands)
    return {"signal": "disguised_brand", "detail": f"disguised brand name: {shown}"}


def price_reason(
    price: float | None, genuine: list[float], *, ratio: float, min_samples: int
) -> Reason | None:
    """A low_price reason when `price` < ratio x median(genuine), with enough genuine prices."""
    if price is None or len(genuine) < min_samples:
        return None
    typical = statistics.median(genuine)
    if typical <= 0 or price >= ratio * typical:
        return None
    return {
        "signal": "low_price",
        "detail": f"price {price:,.0f} VND is {price / typical:.0%} of the category's typical "
        f"{typical:,.0f} VND (median of {len(genuine)} listings confirmed genuine; "
        f"threshold {ratio:.0%})",
    }
