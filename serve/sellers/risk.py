"""Seller risk: a score in [0, 1] with the reasons behind it.

Each kind of evidence e_k in [0, 1] is combined as a noisy OR, risk = 1 - prod(1 - e_k): any
one strong piece of evidence is enough, several weak ones add up, and the result never leaves
[0, 1]. The evidence, strongest first:

- confirmed counterfeit: 0.9 for the first photo an inspector confirmed counterfeit, and each
  further counterfeit listing (a repeat offence) halves what is left: 1 - 0.1 x 0.5^(n-1);
- known counterfeit photo: 0.6 when a listing shows a photo matching a confirmed counterfeit;
- linked: 0.5 x the highest risk (without links) of the sellers it shares a phone number, Zalo
  id or photo with (one hop: a network is as risky as its worst member, at half weight);
- listing signals: disguised brand name 0.3, low price 0.3, contact details 0.1 (once each);
- repeat high listings: 0.3 x min(1, (h - 1) / 4) for h listings at priority high;
- the model: 0.5 x the mean of its listings' scores (the photos alone never make a seller
  more than 0.5: inspectors' verdicts and the listing's words weigh more).

A seller whose photos inspectors confirmed genuine, and none counterfeit, has its risk halved.

The risk is stored on the seller row and kept current as its inputs change (stored.py); `assess`
below is the same formula computed from scratch, which a test holds the stored values to.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from counterscan.serve.storage.seller_facts import SellerFacts

SIGNAL_WEIGHTS = {"disguised_brand": 0.3, "low_price": 0.3, "contact_details": 0.1}
KNOWN_COUNTERFEIT = 0.6
LINK_WEIGHT = 0.5
MODEL_WEIGHT = 0.5
GENUINE_FACTOR = 0.5


@dataclass
class Own:
    """What a seller's own listings say (no links): evidence, counts and its risk alone."""

    evidence: list[tuple[float, str]]
    high: int
    counterfeit: int
    only_genuine: bool
    listings: int

    @property
    def base(self) -> float:
        """The risk without links: what linked sellers see of this one (rounded as shown)."""
        return round(
            _noisy_or([e for e, _ in self.evidence])
            * (GENUINE_FACTOR if self.only_genuine else 1.0),
            4,
        )


@dataclass
class Assessed:
    facts: SellerFacts
    risk: float
    reasons: list[str]
    high_listings: int
    confirmed_counterfeit: int
    linked: list[dict[str, Any]] = field(default_factory=list)


def _noisy_or(evidence: list[float]) -> float:
    left = 1.0
    for e in evidence:
        left *= 1.0 - min(max(e, 0.0), 1.0)
    return 1.0 - left


def own_evidence(f: SellerFacts) -> Own:
    """The evidence of the seller's own listings, with its reasons."""
    photos = [p for listing in f.listings for p in listing.photos]
    counterfeit = [p for p in photos if p["verdict"] == "counterfeit"]
    bad_listings = sum(
        any(p["verdict"] == "counterfeit" for p in listing.photos) for listing in f.listings
    )
    genuine = any(p["verdict"] == "genuine" for p in photos)
    high = sum(any(p["priority"] == "high" for p in listing.photos) for listing in f.listings)
    out: list[tuple[float, str]] = []
    if counterfeit:
        e = 1.0 - 0.1 * 0.5 ** (bad_listings - 1)
        out.append((e, f"{len(counterfeit)} photo(s) confirmed counterfeit in {bad_listings} "
                       "listing(s)"))  # fmt: skip
    signals = {r["signal"]: r["detail"] for listing in f.listings for r in listing.reasons}
    if "known_counterfeit" in signals:
        out.append((KNOWN_COUNTERFEIT, f"known counterfeit: {signals['known_counterfeit']}"))
    for name, weight in SIGNAL_WEIGHTS.items():
        if name in signals:
            out.append((weight, signals[name]))
    if high >= 2:
        out.append((0.3 * min(1.0, (high - 1) / 4), f"{high} listings at priority high"))
    if f.listings:
        mean = sum(listing.score for listing in f.listings) / len(f.listings)
        out.append((MODEL_WEIGHT * mean, f"mean photo score of its listings {mean:.2f}"))
    return Own(out, high, len(counterfeit), genuine and not counterfeit, len(f.listings))


def photo_why(sha256: str) -> str:
    return f"same photo {sha256[:12]}"


def contact_why(kind: str, value: str) -> str:
    return f"same {kind} {value}"


def links(sellers: dict[int, SellerFacts]) -> dict[int, dict[int, list[str]]]:
    """For each seller, the others it shares a contact or a photo with, and why (sorted)."""
    shared: dict[tuple[str, str], set[int]] = defaultdict(set)
    for ref, f in sellers.items():
        for kind, value in f.contacts:
            shared[(kind, value)].add(ref)
        for listing in f.listings:
            for p in listing.photos:
                shared[("photo", p["sha256"])].add(ref)
    out: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for (kind, value), refs in shared.items():
        if len(refs) < 2:
            continue
        why = photo_why(value) if kind == "photo" else contact_why(kind, value)
        for a in refs:
            for b in refs - {a}:
                out[a][b].append(why)
    return {a: {b: sorted(set(w)) for b, w in by.items()} for a, by in out.items()}


def combine(own: Own, linked: list[dict[str, Any]]) -> tuple[float, list[str], list[dict]]:
    """The risk and reasons from a seller's own evidence and the sellers linked to it (each
    {"source", "seller_id", "risk": its base, "why"}); linked comes back worst first."""
    linked = sorted(linked, key=lambda x: (-x["risk"], x["source"], x["seller_id"]))
    evidence = list(own.evidence)
    if linked:
        worst = linked[0]
        evidence.append((
            LINK_WEIGHT * worst["risk"],
            f"linked to {worst['source']}/{worst['seller_id']} (risk {worst['risk']:.2f}): "
            + "; ".join(worst["why"]),
        ))  # fmt: skip
    risk = _noisy_or([e for e, _ in evidence])
    reasons = [why for e, why in sorted(evidence, key=lambda x: -x[0]) if e > 0]
    if own.only_genuine:
        risk *= GENUINE_FACTOR
        reasons.append("photos confirmed genuine: risk halved")
    return round(risk, 4), reasons, linked


def assess(sellers: dict[int, SellerFacts]) -> list[Assessed]:
    """Every seller with its risk and reasons, riskiest first (ties: source, seller_id),
    computed from scratch (the stored values must equal these)."""
    own = {ref: own_evidence(f) for ref, f in sellers.items()}
    network = links(sellers)
    out = []
    for ref, f in sellers.items():
        linked = [
            {
                "source": sellers[other].source,
                "seller_id": sellers[other].seller_id,
                "risk": own[other].base,
                "why": why,
            }
            for other, why in network.get(ref, {}).items()
        ]
        risk, reasons, linked = combine(own[ref], linked)
        out.append(Assessed(f, risk, reasons, own[ref].high, own[ref].counterfeit, linked))
    out.sort(key=lambda a: (-a.risk, a.facts.source, a.facts.seller_id))
    return out
