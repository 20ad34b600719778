"""POST /v1/score and /v1/score/batch through the real app (model, store, batcher)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from tests.helpers.photos import blobs

RESULT_KEYS = {
    "id", "score", "priority", "model_version", "sha256", "phash", "listing_id", "source", "url",
    "created_at", "cached", "heatmap_png_base64", "matches", "priority_reason",
}  # fmt: skip


def _score(client, data: bytes, name: str = "p.jpg", **form):
    return client.post(
        "/v1/score", files={"image": (name, data, "application/octet-stream")}, data=form
    )


def test_score_one_image(app_client, make_image, model_contract) -> None:
    data = make_image(size=(320, 240), seed=7)
    r = _score(app_client, data, listing_id="L-7", source="shop-a", url="https://x.example/7")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == RESULT_KEYS
    assert 0.0 <= body["score"] <= 1.0
    assert body["priority"] == model_contract.thresholds.priority(body["score"])
    assert body["model_version"] == model_contract.model_version
    assert len(body["phash"]) == 16 and len(body["sha256"]) == 64
    assert (body["listing_id"], body["source"], body["url"]) == (
        "L-7",
        "shop-a",
        "https://x.example/7",
    )
    assert body["cached"] is False and body["heatmap_png_base64"] is None
    assert body["created_at"].endswith("Z")

    # Stored: the item is in the queue with its size.
    item = app_client.get(f"/v1/items/{body['id']}").json()
    assert (item["width"], item["height"]) == (320, 240)
    assert item["score"] == body["score"]


def test_same_image_again_is_cached(app_client, make_image) -> None:
    data = make_image(seed=11)
    first = _score(app_client, data).json()
    again = _score(app_client, data).json()
    assert again["cached"] is True
    assert again["id"] == first["id"] and again["score"] == first["score"]
    metrics = app_client.get("/metrics").text
    assert 'counterscan_images_scored_total{outcome="cached"} 1.0' in metrics


def test_heatmap_on_request(app_client, make_image) -> None:
    data = make_image(size=(500, 300), seed=5)
    body = _score(app_client, data, heatmap="true").json()
    png = Image.open(io.BytesIO(base64.b64decode(body["heatmap_png_base64"])))
    assert png.format == "PNG" and png.size == (300, 300)  # the centre square the model saw
    # Asked again, the score comes from the store but the map is still drawn.
    again = _score(app_client, data, heatmap="1").json()
    assert again["cached"] is True and again["heatmap_png_base64"]


def _encode(img: Image.Image, fmt: str, **save) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **save)
    return buf.getvalue()


def _gif_two_frames() -> bytes:
    frames = [blobs((120, 90), seed=1).convert("P"), blobs((120, 90), seed=2).convert("P")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return buf.getvalue()


FORMATS = {
    "jpeg": lambda: _encode(blobs((120, 90)), "JPEG"),
    "png_rgba": lambda: _encode(blobs((120, 90)).convert("RGBA"), "PNG"),
    "png_palette_transparent": lambda: _encode(
        blobs((120, 90)).convert("P"), "PNG", transparency=0
    ),
    "png_grey16": lambda: _encode(
        Image.fromarray((np.arange(120 * 90).reshape(90, 120) * 6).astype(np.uint16)), "PNG"
    ),
    "gif_animated": _gif_two_frames,
    "webp": lambda: _encode(blobs((120, 90)), "WEBP"),
    "bmp": lambda: _encode(blobs((120, 90)), "BMP"),
    "tiff_16bit": lambda: _encode(Image.new("I;16", (120, 90), 30000), "TIFF"),
    "jpeg_cmyk": lambda: _encode(blobs((120, 90)).convert("CMYK"), "JPEG"),
    "heic": lambda: _encode(blobs((120, 90)), "HEIF"),
}


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_formats(app_client, kind: str) -> None:
    r = _score(app_client, FORMATS[kind]())
    assert r.status_code == 200, r.text
    assert 0.0 <= r.json()["score"] <= 1.0


def test_exif_orientation_gives_the_displayed_size(app_client) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    data = _encode(blobs((400, 200)), "JPEG", exif=exif.tobytes())
    body = _score(app_client, data).json()
    item = app_client.get(f"/v1/items/{body['id']}").json()
    assert (item["width"], item["height"]) == (200, 400)


def test_batch_of_64_mixed_good_and_broken(app_client, make_image, model_contract) -> None:
    # index: (bytes, status): an empty file is malformed (422); bytes that are no supported
    # image, or an image of an unsupported format, are 415
    broken = {
        3: (b"", 422),
        10: (b"not an image at all", 415),
        17: (make_image(size=(300, 200), seed=99)[:200], 415),  # truncated JPEG
        30: (b"GIF89a" + b"\0" * 10, 415),
        45: (_encode(Image.new("RGB", (16, 16)), "ICO"), 415),
        63: (b"\x89PNG\r\n\x1a\n" + b"\0" * 30, 415),
    }
    files = []
    for i in range(64):
        data = broken[i][0] if i in broken else make_image(size=(80 + i, 60), seed=1000 + i)
        files.append(("images", (f"{i}.img", data, "application/octet-stream")))
    listing_ids = {"listing_id": [f"L{i}" for i in range(64)]}
    r = app_client.post("/v1/score/batch", files=files, data=listing_ids)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == model_contract.model_version
    results = body["results"]
    assert [x["index"] for x in results] == list(range(64))
    for i, result in enumerate(results):
        if i in broken:
            assert result["ok"] is False, i
            assert result["error"]["status"] == broken[i][1], (i, result)
            assert result["error"]["detail"]
        else:
            assert result["ok"] is True, (i, result)
            assert result["listing_id"] == f"L{i}"
            assert result["cached"] is False
    assert len({x["id"] for x in results if x["ok"]}) == 58


def test_batch_json_and_duplicates(app_client, make_image) -> None:
    a, b = make_image(seed=1), make_image(seed=2)
    items = [
        {"image_base64": base64.b64encode(a).decode(), "listing_id": "A", "source": "s"},
        {"image_base64": "data:image/jpeg;base64," + base64.b64encode(b).decode()},
        {"image_base64": base64.b64encode(a).decode(), "listing_id": "A2"},
        {"image_base64": "###"},
        {"listing_id": "no image"},
        "not an object",
    ]
    r = app_client.post("/v1/score/batch", json={"items": items})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["ok"] for x in res] == [True, True, True, False, False, False]
    assert res[0]["cached"] is False and res[2]["cached"] is True  # same bytes, scored once
    assert res[2]["id"] == res[0]["id"]
    assert res[0]["listing_id"] == "A" and res[0]["source"] == "s"
    assert all(x["error"]["status"] == 422 for x in res[3:])


def test_too_long_listing_id_fails_only_its_item(app_client, make_image) -> None:
    items = [
        {"image_base64": base64.b64encode(make_image(seed=1)).decode(), "listing_id": "L" * 5000},
        {"image_base64": base64.b64encode(make_image(seed=2)).decode()},
    ]
    res = app_client.post("/v1/score/batch", json={"items": items}).json()["results"]
    assert res[0]["ok"] is False and res[0]["error"]["status"] == 422
    assert res[1]["ok"] is True


def test_scoring_on_each_database(make_client, db_url, make_image) -> None:
    """The whole scoring path on SQLite and on PostgreSQL (db_url: tests/serve/conftest.py)."""
    client = make_client(db=db_url)
    data = make_image(seed=77)
    first = _score(client, data, listing_id="PG-1").json()
    assert first["cached"] is False
    assert _score(client, data).json()["id"] == first["id"]
    files = [("images", (f"{i}.jpg", make_image(seed=80 + i), "image/jpeg")) for i in range(3)]
    files.append(("images", ("bad.jpg", b"junk", "image/jpeg")))
    results = client.post("/v1/score/batch", files=files).json()["results"]
    assert [x["ok"] for x in results] == [True, True, True, False]
    assert client.get("/readyz").status_code == 200
