"""The seller risk formula (serve/sellers/risk.py) on hand-made facts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from counterscan.serve.sellers.risk import assess
from counterscan.serve.storage.seller_facts import ListingFacts, SellerFacts

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _listing(n: int, score: float, verdict: str | None = None, signals: tuple = (), **kw: Any):
    photo = {"id": f"i{n}", "sha256": kw.get("sha", f"{n:064x}"), "priority": kw.get("priority", "low"), "verdict": verdict}  # fmt: skip
    reasons = [{"signal": s, "detail": s} for s in signals]
    return ListingFacts(n, "src", f"L{n}", None, None, None, None, score, reasons, NOW, [photo])


def _seller(ref: int, *listings: ListingFacts, contacts=()) -> SellerFacts:
    return SellerFacts(ref, "src", f"s{ref}", None, NOW, NOW, list(listings), list(contacts))


def _risks(*sellers: SellerFacts) -> dict[str, float]:
    return {a.facts.seller_id: a.risk for a in assess({s.ref: s for s in sellers})}


def test_evidence_orders_sellers() -> None:
    risks = _risks(
        _seller(1, _listing(1, 0.2, "counterfeit")),
        _seller(2, _listing(2, 0.2, "counterfeit"), _listing(3, 0.2, "counterfeit")),
        _seller(3, _listing(4, 0.2, signals=("disguised_brand", "low_price"))),
        _seller(4, _listing(5, 0.9)),
        _seller(5, _listing(6, 0.9, "genuine")),
        _seller(6),
    )
    assert risks["s2"] > risks["s1"] >= 0.9  # a repeat offence weighs more
    assert risks["s1"] > risks["s3"] > risks["s4"] > risks["s5"]  # confirmed genuine: halved
    assert risks["s4"] <= 0.5  # the model alone never passes 0.5
    assert risks["s6"] == 0.0
    assert all(0.0 <= r <= 1.0 for r in risks.values())


def test_links_through_phones_and_photos() -> None:
    bad = _seller(1, _listing(1, 0.5, "counterfeit", sha="a" * 64), contacts=[("phone", "0912345678")])  # fmt: skip
    by_phone = _seller(2, _listing(2, 0.1), contacts=[("phone", "0912345678")])
    by_photo = _seller(3, _listing(3, 0.1, sha="a" * 64))
    alone = _seller(4, _listing(4, 0.1))
    ranked = {a.facts.seller_id: a for a in assess({s.ref: s for s in (bad, by_phone, by_photo, alone)})}  # fmt: skip
    assert ranked["s2"].linked[0]["why"] == ["same phone 0912345678"]
    assert ranked["s3"].linked[0]["why"] == ["same photo aaaaaaaaaaaa"]
    assert ranked["s2"].risk > ranked["s4"].risk + 0.3
    assert any("linked to src/s1" in r for r in ranked["s2"].reasons)
    assert ranked["s4"].linked == []
