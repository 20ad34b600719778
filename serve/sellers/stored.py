"""Seller risk kept current in the database, so ranking 50,000 sellers is one indexed query.

A seller's risk depends on its own listings, photos, verdicts and contacts, and on the risk
without links (`base_risk`) of the sellers it is linked to (risk.py). So when something of
seller A changes (a listing recorded or moved, a verdict, a priority raised), `refresh({A})`:
1. recomputes A's own part (evidence, counts, base_risk) from its rows;
2. recomputes the link part of A and of every seller linked to A now or before (their risk
   uses A's base_risk; a seller that lost its link to A must drop it) from the stored
   base_risk of their neighbours.
Work is bounded by A's listings and its link neighbourhood (one hop), never the whole table.
The result equals `risk.assess` from scratch: tests/serve/sellers/test_stored_risk.py.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Connection

from counterscan.serve.sellers.risk import Own, combine, contact_why, own_evidence, photo_why
from counterscan.serve.storage import seller_risk as db
from counterscan.serve.storage.seller_facts import load_seller_facts

BACKFILL_BATCH = 2000


def _own_rows(conn: Connection, refs: Collection[int]) -> dict[int, dict[str, Any]]:
    """Recompute and store the own part of `refs`; the link part is kept until pass 2."""
    facts = load_seller_facts(conn, refs)
    before = db.stored(conn, facts)
    rows = {}
    for ref, f in facts.items():
        own = own_evidence(f)
        old = before.get(ref, {})
        rows[ref] = {
            "seller_ref": ref,
            "source": f.source,
            "seller_id": f.seller_id,
            "risk": old.get("risk", own.base),
            "base_risk": own.base,
            "listing_count": own.listings,
            "high_listings": own.high,
            "confirmed_counterfeit": own.counterfeit,
            "evidence": {"evidence": own.evidence, "only_genuine": own.only_genuine},
            "reasons": old.get("reasons", []),
            "linked": old.get("linked", []),
        }
    db.write(conn, list(rows.values()))
    return rows


def _own(row: dict[str, Any]) -> Own:
    ev = row["evidence"]
    return Own(
        [(float(e), str(w)) for e, w in ev["evidence"]],
        row["high_listings"],
        row["confirmed_counterfeit"],
        bool(ev["only_genuine"]),
        row["listing_count"],
    )


def _why(shared: set[tuple[str, str]]) -> list[str]:
    return sorted({photo_why(v) if k == "photo" else contact_why(k, v) for k, v in shared})


def _link_pass(
    conn: Connection, refs: Collection[int], known: dict[int, dict] | None = None
) -> None:
    """Recompute risk, reasons and linked of `refs` from their stored own part and the stored
    base_risk of their neighbours (computing the own part of any not stored yet). `known`:
    neighbours already looked up for some of them."""
    known = known or {}
    network = {ref: known[ref] for ref in refs if ref in known}
    network.update(db.neighbours(conn, [r for r in refs if r not in known]))
    others = {b for by in network.values() for b in by}
    rows = db.stored(conn, set(refs) | others)
    if unknown := (set(refs) | others) - set(rows):
        rows.update(_own_rows(conn, unknown))
    out = []
    for ref in refs:
        row = rows[ref]
        linked = [
            {
                "source": rows[b]["source"],
                "seller_id": rows[b]["seller_id"],
                "risk": rows[b]["base_risk"],
                "why": _why(shared),
            }
            for b, shared in network.get(ref, {}).items()
        ]
        risk, reasons, linked = combine(_own(row), linked)
        out.append(row | {"risk": risk, "reasons": reasons, "linked": linked})
    db.write(conn, out)


def refresh(conn: Connection, refs: Iterable[int]) -> None:
    """Bring the stored risk of `refs`, and of the sellers linked to them, up to date (in the
    caller's transaction, after its changes)."""
    changed = set(refs)
    if not changed:
        return
    db.lock(conn)
    before = db.stored(conn, changed)
    was_linked = db.linked_refs(conn, list(before.values()))
    _own_rows(conn, changed)
    network = db.neighbours(conn, changed)
    now_linked = {b for by in network.values() for b in by}
    _link_pass(
        conn, changed | was_linked | now_linked, known={r: network.get(r, {}) for r in changed}
    )


def backfill(conn: Connection, batch: int = BACKFILL_BATCH) -> int:
    """Compute the stored risk of every seller that has none (a database from before schema
    version 7, or the benchmark's bulk load): own parts first, then links. Returns how many."""
    done: list[int] = []
    while refs := db.missing(conn, batch):
        db.lock(conn)
        _own_rows(conn, refs)
        done += refs
    for n in range(0, len(done), batch):
        _link_pass(conn, done[n : n + batch])
    return len(done)
