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


def own_evidence(f: SellerFacts) -> tuple[list[tuple[float, str]], int, int, bool]:
    """(evidence with its reason, high listings, confirmed counterfeit photos, any genuine)."""
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
    return out, high, len(counterfeit), genuine and not counterfeit


def links(sellers: dict[int, SellerFacts]) -> dict[int, dict[int, list[str]]]:
    """For each seller, the others it shares a contact or a photo with, and why."""
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
        why = f"same photo {value[:12]}" if kind == "photo" else f"same {kind} {value}"
        for a in refs:
            for b in refs - {a}:
                out[a][b].append(why)
    return out


def assess(sellers: dict[int, SellerFacts]) -> list[Assessed]:
    """Every seller with its risk and reasons, riskiest first (ties: source, seller_id)."""
    own = {ref: own_evidence(f) for ref, f in sellers.items()}
    base = {
        ref: _noisy_or([e for e, _ in ev]) * (GENUINE_FACTOR if ok else 1.0)
        for ref, (ev, _, _, ok) in own.items()
    }
    network = links(sellers)
    out = []
    for ref, f in sellers.items():
        evidence, high, counterfeit, only_genuine = own[ref]
        linked = [
            {
                "source": sellers[other].source,
                "seller_id": sellers[other].seller_id,
                "risk": round(base[other], 4),
                "why": why,
            }
            for other, why in sorted(network.get(ref, {}).items(), key=lambda kv: -base[kv[0]])
        ]
        if linked:
            worst = linked[0]
            evidence.append((
                LINK_WEIGHT * worst["risk"],
                f"linked to {worst['source']}/{worst['seller_id']} (risk {worst['risk']:.2f}): "
                + "; ".join(worst["why"]),
            ))  # fmt: skip
        risk = _noisy_or([e for e, _ in evidence])
        reasons = [why for e, why in sorted(evidence, key=lambda x: -x[0]) if e > 0]
        if only_genuine:
            risk *= GENUINE_FACTOR
            reasons.append("photos confirmed genuine: risk halved")
        out.append(Assessed(f, round(risk, 4), reasons, high, counterfeit, linked))
    out.sort(key=lambda a: (-a.risk, a.facts.source, a.facts.seller_id))
    return out
