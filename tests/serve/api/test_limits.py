"""Limits and malformed input: 413 too large (body, image bytes, pixels, batch length), 415 not
a supported image, 422 malformed request; every error is JSON {"detail": "..."}."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

KB = 1024


def _detail(r) -> str:
    body = r.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str)
    return body["detail"]


def test_declared_body_over_the_limit_is_413_before_reading(make_client) -> None:
    client = make_client(max_body_bytes=64 * KB, max_image_bytes=16 * KB)
    big = b"x" * (200 * KB)
    r = client.post(
        "/v1/score/batch",
        content=big,
        headers={"content-type": "multipart/form-data; boundary=zz"},
    )
    assert r.status_code == 413
    assert "larger than the limit of 65536 bytes" in _detail(r)


def test_streamed_body_over_the_limit_is_413(make_client) -> None:
    """No Content-Length (chunked): the bytes are counted as they arrive."""
    client = make_client(max_body_bytes=64 * KB, max_image_bytes=16 * KB)

    def chunks():
        for _ in range(20):
            yield b"y" * (16 * KB)

    r = client.post(
        "/v1/score/batch", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert "larger than the limit" in _detail(r)


def test_single_image_route_has_a_body_limit_of_one_image(make_client, make_image) -> None:
    client = make_client(max_image_bytes=32 * KB)
    noisy = Image.effect_noise((300, 300), 80).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "PNG")
    assert len(buf.getvalue()) > 100 * KB
    r = client.post("/v1/score", files={"image": ("n.png", buf.getvalue(), "image/png")})
    assert r.status_code == 413


def test_image_over_byte_limit_in_a_batch_fails_alone(make_client, make_image) -> None:
    client = make_client(max_image_bytes=20 * KB)
    noisy = Image.effect_noise((200, 200), 80).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "BMP")  # 120 KB, within the body limit, over the image limit
    files = [
        ("images", ("a.jpg", make_image(seed=1), "image/jpeg")),
        ("images", ("big.bmp", buf.getvalue(), "image/bmp")),
    ]
    r = client.post("/v1/score/batch", files=files)
    assert r.status_code == 200
    ok, big = r.json()["results"]
    assert ok["ok"] is True
    assert big["ok"] is False and big["error"]["status"] == 413


def test_pixel_limit_is_413(make_client, make_image) -> None:
    client = make_client(max_image_pixels=100 * 100)
    r = client.post(
        "/v1/score", files={"image": ("a.png", make_image("PNG", (200, 120)), "image/png")}
    )
    assert r.status_code == 413
    assert "more than the limit of 10000" in _detail(r)


def test_decompression_bomb_is_413(app_client) -> None:
    """A small file that claims 30000 x 30000 pixels is refused before it is decoded."""
    img = Image.new("1", (30000, 30000))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    assert len(buf.getvalue()) < 1024 * KB
    r = app_client.post("/v1/score", files={"image": ("bomb.png", buf.getvalue(), "image/png")})
    assert r.status_code == 413


def test_batch_longer_than_allowed_is_413(make_client, make_image) -> None:
    client = make_client(max_batch_images=3)
    files = [("images", (f"{i}.jpg", make_image(seed=i), "image/jpeg")) for i in range(4)]
    r = client.post("/v1/score/batch", files=files)
    assert r.status_code == 413
    assert "at most 3 images" in _detail(r)
    items = [{"image_base64": base64.b64encode(make_image(seed=i)).decode()} for i in range(4)]
    r = client.post("/v1/score/batch", json={"items": items})
    assert r.status_code == 413


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"%PDF-1.4 not an image", "not a recognised image"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 40, "not a recognised image"),
    ],
)
def test_not_an_image_is_415(app_client, data: bytes, words: str) -> None:
    r = app_client.post("/v1/score", files={"image": ("x.jpg", data, "image/jpeg")})
    assert r.status_code == 415
    assert words in _detail(r)


def test_unsupported_format_is_415(app_client) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buf, "ICO")
    r = app_client.post("/v1/score", files={"image": ("x.ico", buf.getvalue(), "image/x-icon")})
    assert r.status_code == 415
    assert "unsupported image format ICO" in _detail(r)


def test_truncated_jpeg_is_415(app_client, make_image) -> None:
    data = make_image(size=(400, 300), seed=3)
    r = app_client.post(
        "/v1/score", files={"image": ("t.jpg", data[: len(data) // 3], "image/jpeg")}
    )
    assert r.status_code == 415
    assert "truncated or corrupt" in _detail(r)


def test_malformed_requests_are_422(app_client) -> None:
    r = app_client.post("/v1/score", data={"listing_id": "L1"})
    assert r.status_code == 422
    assert "image (body): Field required" in _detail(r)
    r = app_client.post("/v1/score", files={"image": ("e.jpg", b"", "image/jpeg")})
    assert r.status_code == 422
    assert "empty" in _detail(r)
    for body in (b"{not json", b"[]", b'{"items": 3}', b'{"items": []}'):
        r = app_client.post(
            "/v1/score/batch", content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 422, body
        _detail(r)
    r = app_client.post("/v1/score/batch", files={"other": ("a.jpg", b"x", "image/jpeg")})
    assert r.status_code == 422
    assert "no images" in _detail(r)
    r = app_client.post("/v1/score/batch", content=b"abc", headers={"content-type": "text/plain"})
    assert r.status_code == 415


def test_image_under_the_minimum_side_is_422(make_client, make_image) -> None:
    client = make_client(min_image_side=40)
    small = make_image("PNG", (200, 39))
    r = client.post("/v1/score", files={"image": ("a.png", small, "image/png")})
    assert r.status_code == 422
    assert "200x39, smaller than 40 pixels" in _detail(r)
    ok = client.post(
        "/v1/score", files={"image": ("a.png", make_image("PNG", (200, 40)), "image/png")}
    )
    assert ok.status_code == 200
    r = client.post("/v1/score/batch", files=[("images", ("a.png", small, "image/png"))])
    assert r.status_code == 200 and r.json()["results"][0]["error"]["status"] == 422
