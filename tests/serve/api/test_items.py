"""The queue, item, image and verdict routes through the real app (TestClient), on SQLite and
PostgreSQL: items come from POST /v1/score with a real exported model, or are saved straight
into the app's store when a test needs exact scores."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from counterscan.hashing import sha256_bytes
from counterscan.serve.storage import Store


@pytest.fixture
def client(make_client: Callable[..., Any], db_url: str, data_dir: Path) -> Any:
    return make_client(db=db_url, data_dir=data_dir)


def score(client: Any, data: bytes, **form: str) -> dict[str, Any]:
    r = client.post("/v1/score", files={"image": ("photo", data)}, data=form)
    assert r.status_code == 200, r.text
    return r.json()


def put(client: Any, make_image, seed: int, priority: str, score: float, **kw: Any) -> str:
    """Save an item with an exact priority and score into the app's own store."""
    store: Store = client.app.state.store
    data = make_image(seed=seed)
    fields = dict(phash="0" * 16, model_version="m", width=96, height=64, source="shop-a")
    fields.update(kw)
    record = store.save_scored(
        image_bytes=data, sha256=sha256_bytes(data), score=score, priority=priority, **fields
    )
    return record.id


def test_scored_image_is_an_item_with_its_files(client, make_image) -> None:
    data = make_image("JPEG", (640, 480), seed=1)
    scored = score(client, data, listing_id="L-1", source="shop-a", url="https://x.example/1")
    item = client.get(f"/v1/items/{scored['id']}").json()
    assert item["id"] == scored["id"] and item["score"] == scored["score"]
    assert item["status"] == "unreviewed" and item["verdict"] is None and item["verdicts"] == []
    assert item["sightings"] == []
    assert (item["listing_id"], item["source"]) == ("L-1", "shop-a")
    assert (item["width"], item["height"]) == (640, 480)

    image = client.get(item["image_url"])
    assert image.status_code == 200
    assert image.content == data
    assert image.headers["content-type"] == "image/jpeg"
    assert "immutable" in image.headers["cache-control"]

    thumb = client.get(item["thumbnail_url"])
    assert thumb.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumb.content)) as img:
        assert max(img.size) <= 320

    heat = client.get(item["heatmap_url"])
    assert heat.status_code == 200 and heat.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(heat.content)) as img:
        assert img.format == "PNG"


def test_thumbnails_are_made_on_first_view_by_default(client, make_image) -> None:
    """Scoring keeps the original only (settings.eager_thumbnails): the thumbnail is made from
    it when somebody first looks, then served from the file."""
    scored = score(client, make_image("JPEG", (640, 480), seed=11))
    store: Store = client.app.state.store
    path = store.files.thumbnail_path(scored["sha256"])
    assert store.files.image_path(scored["sha256"]).is_file() and not path.exists()
    first = client.get(f"/v1/items/{scored['id']}/thumbnail")
    assert first.status_code == 200 and path.is_file()
    assert client.get(f"/v1/items/{scored['id']}/thumbnail").content == first.content


def test_eager_thumbnails_are_made_when_scoring(make_client, data_dir: Path, make_image) -> None:
    client = make_client(data_dir=data_dir, eager_thumbnails=True)
    scored = score(client, make_image("JPEG", (640, 480), seed=12))
    store: Store = client.app.state.store
    with Image.open(store.files.thumbnail_path(scored["sha256"])) as thumb:
        assert max(thumb.size) == 320


def test_png_evidence_is_served_as_png(client, make_image) -> None:
    data = make_image("PNG", (80, 80), seed=2)
    scored = score(client, data)
    r = client.get(f"/v1/items/{scored['id']}/image")
    assert r.content == data and r.headers["content-type"] == "image/png"


def test_queue_order_filters_and_pages(client, make_image) -> None:
    ids = {
        "low": put(client, make_image, 1, "low", 0.1),
        "high_b": put(client, make_image, 2, "high", 0.8, source="shop-b"),
        "medium": put(client, make_image, 3, "medium", 0.5),
        "high_a": put(client, make_image, 4, "high", 0.95),
    }
    order = [ids[k] for k in ("high_a", "high_b", "medium", "low")]
    body = client.get("/v1/queue").json()
    assert [i["id"] for i in body["items"]] == order
    assert (body["total"], body["limit"], body["offset"]) == (4, 50, 0)
    assert body["items"][0]["image_url"] == f"/v1/items/{ids['high_a']}/image"

    page = client.get("/v1/queue", params={"limit": 2, "offset": 2}).json()
    assert [i["id"] for i in page["items"]] == order[2:] and page["total"] == 4

    comma = client.get("/v1/queue", params={"priority": "high,low"}).json()
    repeated = client.get("/v1/queue", params=[("priority", "high"), ("priority", "low")]).json()
    assert [i["id"] for i in comma["items"]] == [ids["high_a"], ids["high_b"], ids["low"]]
    assert comma == repeated

    shop_b = client.get("/v1/queue", params={"source": "shop-b"}).json()
    assert [i["id"] for i in shop_b["items"]] == [ids["high_b"]]
    assert client.get("/v1/queue", params={"since": "2999-01-01T00:00:00Z"}).json()["total"] == 0
    assert client.get("/v1/queue", params={"until": "2999-01-01"}).json()["total"] == 4


def test_queue_pages_by_cursor(client, make_image) -> None:
    ids = [put(client, make_image, seed, "medium", 0.5) for seed in range(5)]  # tied scores
    first = client.get("/v1/queue", params={"limit": 2}).json()
    assert (first["total"], first["total_is_estimate"]) == (5, False)
    seen = [i["id"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get("/v1/queue", params={"limit": 2, "after": cursor}).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert seen == [i["id"] for i in client.get("/v1/queue").json()["items"]]
    bad = client.get("/v1/queue", params={"after": "not-a-cursor"})
    assert bad.status_code == 422 and "not a cursor" in bad.json()["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 501},
        {"limit": 0},
        {"offset": -1},
        {"status": "done"},
        {"priority": "urgent"},
        {"after": "x" * 401},
    ],
)
def test_bad_queue_parameters_are_422(client, params) -> None:
    r = client.get("/v1/queue", params=params)
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], str)


def test_verdicts_keep_history_and_leave_the_queue(client, make_image) -> None:
    item_id = put(client, make_image, 5, "high", 0.9)
    first = client.post(f"/v1/items/{item_id}/verdict", json={"verdict": "unsure"})
    assert first.status_code == 200, first.text
    assert first.json()["verdict"]["inspector"] == "local"  # no keys: the local user
    second = client.post(
        f"/v1/items/{item_id}/verdict",
        json={"verdict": "counterfeit", "note": "logo misprinted", "inspector": "ana"},
    ).json()
    assert second["status"] == "reviewed"
    assert second["verdict"]["verdict"] == "counterfeit"
    assert [(v["verdict"], v["inspector"]) for v in second["verdicts"]] == [
        ("unsure", "local"),
        ("counterfeit", "ana"),
    ]
    assert client.get("/v1/queue").json()["total"] == 0
    reviewed = client.get("/v1/queue", params={"status": "reviewed"}).json()
    assert reviewed["items"][0]["verdict"]["note"] == "logo misprinted"


@pytest.mark.parametrize(
    "body", [{"verdict": "fake"}, {}, {"verdict": "genuine", "note": "x" * 10_001}, []]
)
def test_malformed_verdicts_are_422(client, make_image, body) -> None:
    item_id = put(client, make_image, 6, "low", 0.2)
    r = client.post(f"/v1/items/{item_id}/verdict", json=body)
    assert r.status_code == 422
    assert client.get(f"/v1/items/{item_id}").json()["verdicts"] == []


def test_unknown_and_malformed_ids(client) -> None:
    unknown = "0" * 32
    for path in ("", "/image", "/thumbnail", "/heatmap"):
        r = client.get(f"/v1/items/{unknown}{path}")
        assert r.status_code == 404, path
        assert "no item" in r.json()["detail"]
    assert (
        client.post(f"/v1/items/{unknown}/verdict", json={"verdict": "genuine"}).status_code == 404
    )
    # An id that reaches the item routes but is not 32 lowercase hex digits is malformed (422);
    # a path that reaches no route (dot segments, which the client resolves, or encoded slashes,
    # which split the id) is 404.
    bad_ids = {
        "..%2F..%2Fetc%2Fpasswd": 404,
        "..": 404,
        "%2e%2e": 422,
        "ZZZ": 422,
        "0" * 31 + "g": 422,
        "a" * 64: 422,
    }
    for bad, status in bad_ids.items():
        for path in ("", "/image", "/thumbnail"):
            r = client.get(f"/v1/items/{bad}{path}")
            assert r.status_code == status, (bad, path, r.status_code)
            assert "root:" not in r.text
    r = client.get("/v1/items/../../etc/passwd")
    assert r.status_code == 404


def test_verdicts_survive_an_app_restart(
    make_client: Callable[..., Any], db_url: str, data_dir: Path, make_image
) -> None:
    first = make_client(db=db_url, data_dir=data_dir)
    data = make_image(seed=7)
    item_id = score(first, data)["id"]
    first.post(f"/v1/items/{item_id}/verdict", json={"verdict": "genuine", "note": "checked"})
    first.__exit__(None, None, None)  # lifespan ends: store closed

    second = make_client(db=db_url, data_dir=data_dir)
    item = second.get(f"/v1/items/{item_id}").json()
    assert item["verdict"]["verdict"] == "genuine" and item["verdict"]["note"] == "checked"
    assert second.get(f"/v1/items/{item_id}/image").content == data
    again = score(second, data)
    assert again["id"] == item_id and again["cached"] is True


def test_roles_and_the_inspector_name(
    make_client: Callable[..., Any],
    db_url: str,
    data_dir: Path,
    api_keys_setting: str,
    test_keys: dict[str, str],
    make_image,
) -> None:
    client = make_client(db=db_url, data_dir=data_dir, api_keys=api_keys_setting)
    crawler = {"X-API-Key": test_keys["crawler"]}
    inspector = {"Authorization": f"Bearer {test_keys['inspector']}"}
    item_id = put(client, make_image, 8, "high", 0.9)
    assert client.get("/v1/queue").status_code == 401
    assert client.get("/v1/queue", headers=crawler).status_code == 403
    assert client.get(f"/v1/items/{item_id}/image", headers=crawler).status_code == 403
    assert (
        client.post(
            f"/v1/items/{item_id}/verdict", json={"verdict": "genuine"}, headers=crawler
        ).status_code
        == 403
    )
    assert client.get("/v1/queue", headers=inspector).json()["total"] == 1
    own = client.post(
        f"/v1/items/{item_id}/verdict", json={"verdict": "genuine"}, headers=inspector
    )
    assert own.json()["verdict"]["inspector"] == "ana"  # the key's name
    other = client.post(
        f"/v1/items/{item_id}/verdict",
        json={"verdict": "counterfeit", "inspector": "bo"},
        headers=inspector,
    ).json()
    assert other["verdict"]["inspector"] == "bo"
    stored = client.app.state.store.get_item(item_id)
    assert stored.verdict.recorded_by == "ana"  # who really sent it


def test_database_down_answers_503(client, make_image) -> None:
    from counterscan.serve.storage.db import make_engine

    item_id = put(client, make_image, 9, "high", 0.9)
    store: Store = client.app.state.store
    good = store._engine
    store._engine = make_engine("postgresql://nobody@127.0.0.1:1/none")  # the server went away
    try:
        for r in (
            client.get("/v1/queue"),
            client.get(f"/v1/items/{item_id}"),
            client.post(f"/v1/items/{item_id}/verdict", json={"verdict": "genuine"}),
        ):
            assert r.status_code == 503
            assert "database" in r.json()["detail"]
    finally:
        store._engine.dispose()
        store._engine = good
    assert client.get("/v1/queue").json()["total"] == 1  # back when the database is back


def test_display_copy_for_formats_browsers_cannot_show(client, make_image) -> None:
    tiff = make_image("TIFF", (120, 90), seed=10)
    scored = score(client, tiff)
    url = f"/v1/items/{scored['id']}/image"
    original = client.get(url)
    assert original.content == tiff and original.headers["content-type"] == "image/tiff"
    shown = client.get(url, params={"display": "true"})
    assert shown.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(shown.content)) as img:
        assert img.format == "JPEG" and img.size == (120, 90)
    jpeg = make_image("JPEG", (120, 90), seed=11)
    same = client.get(f"/v1/items/{score(client, jpeg)['id']}/image", params={"display": "1"})
    assert same.content == jpeg  # already displayable: the original itself


def test_same_photo_in_another_listing_is_kept_as_a_sighting(client, make_image) -> None:
    data = make_image("JPEG", (320, 240), seed=11)
    first = score(client, data, listing_id="L-1", source="shop-a")
    again = score(client, data, listing_id="L-2", source="zalo", url="https://z.example/2")
    assert again["cached"] is True and again["id"] == first["id"]
    item = client.get(f"/v1/items/{first['id']}").json()
    assert [(s["listing_id"], s["source"]) for s in item["sightings"]] == [("L-2", "zalo")]
