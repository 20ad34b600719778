"""The simulated month (bench/simulate_month.py) through the batch API on SQLite and
PostgreSQL: every planted counterfeit seller ranks above every genuine shop, the seller that
came back under a new id is linked to its old self and raises the expected alerts once, genuine
shops raise none, and trend counts equal direct SQL counts."""

from __future__ import annotations

from sqlalchemy import func, select

from bench.simulate_month import plan_month, run
from counterscan.serve.storage import schema as s


def test_simulated_month(make_client, db_url) -> None:
    client = make_client(db=db_url)
    plan = plan_month(scale=1, seed=3)
    ids = run(client, plan)
    assert len(ids) == sum(len(d["items"]) for d in plan.days)

    page = client.get("/v1/sellers", params={"limit": 200}).json()
    rank = {(x["source"], x["seller_id"]): n for n, x in enumerate(page["sellers"])}
    by_key = {(x["source"], x["seller_id"]): x for x in page["sellers"]}
    assert set(rank) == set(plan.genuine) | set(plan.counterfeit)
    worst_fake = max(rank[k] for k in plan.counterfeit)
    best_shop = min(rank[k] for k in plan.genuine)
    assert worst_fake < best_shop, [(x["seller_id"], x["risk"]) for x in page["sellers"]]

    assert plan.reappeared is not None
    new, old = plan.reappeared
    links = {(x["source"], x["seller_id"]): x["why"] for x in by_key[new]["linked"]}
    assert old in links, by_key[new]
    assert any(w.startswith("same phone") for w in links[old])
    assert any(w.startswith("same photo") for w in links[old])

    # Each planted event raises its alert once; genuine shops raise none. (Surges depend on
    # how many photos the model puts at high today: they name no seller.)
    alerts = client.get("/v1/alerts", params={"limit": 200}).json()["alerts"]
    raised = sorted(
        (a["kind"], a["source"], a["seller_id"]) for a in alerts if a["kind"] != "surge"
    )
    assert raised == [("known_counterfeit", *new), ("linked_seller", *new)], alerts
    assert all(a["seller_id"] is None for a in alerts if a["kind"] == "surge")

    days = client.get("/v1/trends", params={"days": 2}).json()
    with client.app.state.store.read() as conn:
        scored = conn.execute(select(func.count()).select_from(s.items)).scalar_one()
        high = conn.execute(
            select(func.count()).select_from(s.items).where(s.items.c.priority == "high")
        ).scalar_one()
        fakes = conn.execute(
            select(func.count())
            .select_from(s.verdicts)
            .where(s.verdicts.c.verdict == "counterfeit")
        ).scalar_one()
        per_source = dict(
            conn.execute(select(s.items.c.source, func.count()).group_by(s.items.c.source)).all()
        )
    total = {k: sum(d[k] for d in days["overall"]) for k in ("scored", "high", "counterfeit")}
    assert total == {"scored": scored, "high": high, "counterfeit": fakes}
    assert {k: sum(d["scored"] for d in v) for k, v in days["by_source"].items()} == per_source
