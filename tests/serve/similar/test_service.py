"""Similar cases in the running service: scoring matches, raised priorities, re-flagging on a
counterfeit verdict, GET /v1/items/{id}/similar, and the v3 -> v4 schema step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import inspect, select

from counterscan.serve.similar.evaluate import make_copy
from counterscan.serve.storage import Store
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.db import make_engine
from counterscan.serve.storage.legacy import create_legacy
from tests.helpers.photos import detailed_photo


def score(client: Any, data: bytes, listing: str) -> dict[str, Any]:
    r = client.post(
        "/v1/score", files={"image": ("p.jpg", data, "image/jpeg")}, data={"listing_id": listing}
    )
    assert r.status_code == 200, r.text
    return r.json()


def verdict(client: Any, item_id: str, value: str) -> None:
    r = client.post(f"/v1/items/{item_id}/verdict", json={"verdict": value})
    assert r.status_code == 200, r.text


def test_copies_of_a_confirmed_counterfeit_jump_the_queue(app_client: Any) -> None:
    rng = np.random.default_rng(0)
    original = score(app_client, detailed_photo(1), "L-orig")
    assert original["matches"] == [] and original["priority_reason"] is None
    verdict(app_client, original["id"], "counterfeit")

    for kind in ("crop_20_side", "watermark", "jpeg_q40", "half_size"):
        copy = score(app_client, make_copy(detailed_photo(1), kind, rng), f"L-{kind}")
        assert [(m["item_id"], m["kind"], m["verdict"]) for m in copy["matches"]] == [
            (original["id"], "near_duplicate", "counterfeit")
        ], kind
        assert copy["priority"] == "high"
        assert original["id"] in copy["priority_reason"]
    other = score(app_client, detailed_photo(2), "L-other")
    assert other["matches"] == [] and other["priority_reason"] is None

    queue = app_client.get("/v1/queue", params={"priority": "high"}).json()["items"]
    assert {i["listing_id"] for i in queue} >= {"L-crop_20_side", "L-watermark"}
    assert all(i["priority_reason"] for i in queue if i["listing_id"] != "L-other")


def test_counterfeit_verdict_reflags_queued_copies(app_client: Any) -> None:
    rng = np.random.default_rng(1)
    copy = score(app_client, make_copy(detailed_photo(3), "crop_20_corner", rng), "L-copy")
    unrelated = score(app_client, detailed_photo(4), "L-unrelated")
    original = score(app_client, detailed_photo(3), "L-orig")
    assert copy["priority_reason"] is None
    verdict(app_client, original["id"], "counterfeit")  # the re-flag runs after the answer
    assert app_client.app.state.similar.job.wait_idle(timeout=60)  # a background job

    raised = app_client.get(f"/v1/items/{copy['id']}").json()
    assert raised["priority"] == "high"
    assert raised["priority_reason"] == (
        f"matches confirmed counterfeit {original['id']} (near-duplicate)"
    )
    assert app_client.get(f"/v1/items/{unrelated['id']}").json()["priority_reason"] is None

    similar = app_client.get(f"/v1/items/{copy['id']}/similar").json()["matches"]
    assert [(m["id"], m["kind"]) for m in similar] == [(original["id"], "near_duplicate")]
    assert similar[0]["verdict"]["verdict"] == "counterfeit"
    assert similar[0]["thumbnail_url"] == f"/v1/items/{original['id']}/thumbnail"
    assert 0.74 <= similar[0]["similarity"] <= 1.0

    # A genuine verdict moves it to the known-good set: still shown, no longer counterfeit.
    verdict(app_client, original["id"], "genuine")
    again = app_client.get(f"/v1/items/{copy['id']}/similar").json()["matches"]
    assert [m["verdict"]["verdict"] for m in again] == ["genuine"]
    fresh = score(app_client, make_copy(detailed_photo(3), "crop_10_centre", rng), "L-new")
    assert fresh["matches"][0]["verdict"] == "genuine" and fresh["priority_reason"] is None


def test_references_are_loaded_at_start(make_client: Any) -> None:
    first = make_client()
    original = score(first, detailed_photo(5), "L-orig")
    verdict(first, original["id"], "counterfeit")
    first.__exit__(None, None, None)
    second = make_client()  # same database and data folder
    copy = score(
        second, make_copy(detailed_photo(5), "crop_20_centre", np.random.default_rng(2)), "L"
    )
    assert [m["item_id"] for m in copy["matches"]] == [original["id"]]


def test_version_3_database_gets_the_similar_columns(db_url: str, data_dir: Path) -> None:
    engine = make_engine(db_url)
    create_legacy(engine, 3)  # as the hand-written migrator before Alembic left it
    engine.dispose()
    with Store(db_url, data_dir) as store:
        with store.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("items")}
            versions = conn.execute(select(s.schema_version.c.version)).scalars().all()
        assert {"fingerprint", "priority_reason"} <= columns
        assert max(versions) == s.SCHEMA_VERSION >= 4  # brought to the newest version
