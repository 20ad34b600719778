"""The case register and evidence packages through the real app (TestClient, a real model), on
SQLite and PostgreSQL: items scored, a case opened from two of them, walked to violation with a
fine, closed; its evidence ZIP verifies, and tampering with it is caught file by file."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from counterscan.hashing import sha256_bytes
from counterscan.serve.cases.evidence import keygen, verify_package


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "keys").mkdir()
    return keygen(tmp_path / "keys" / "office")


@pytest.fixture
def client(make_client: Callable[..., Any], db_url: str, data_dir: Path, keys) -> Any:
    return make_client(db=db_url, data_dir=data_dir, evidence_key=keys[0])


def score(client: Any, data: bytes, **form: str) -> dict[str, Any]:
    r = client.post("/v1/score", files={"image": ("photo", data)}, data=form)
    assert r.status_code == 200, r.text
    return r.json()


def ok(r: Any, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return r.json()


def rezip(data: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    change(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return out.getvalue()


def test_case_from_scored_items_to_verified_evidence(
    client: Any, make_image, keys, tmp_path: Path
) -> None:
    photos = [make_image("JPEG", (320, 240), seed=s) for s in (1, 2, 3)]
    items = [
        score(client, p, listing_id=f"L-{n}", source="shop-a", url=f"https://a.example/{n}")
        for n, p in enumerate(photos)
    ]
    a, b, c = (i["id"] for i in items)

    case = ok(client.post("/v1/cases", json={"title": "Shop A bags", "item_ids": [a, b]}), 201)
    assert case["status"] == "open" and case["item_ids"] == [a, b] and case["id"] >= 1
    assert [i["id"] for i in case["items"]] == [a, b]
    got = ok(client.get(f"/v1/cases/{case['id']}"))
    assert (got["status"], got["item_ids"], got["title"]) == ("open", [a, b], "Shop A bags")
    queue = [i["id"] for i in ok(client.get("/v1/queue"))["items"]]
    assert queue == [c]  # items in a case leave the queue

    url = f"/v1/cases/{case['id']}"
    ok(client.post(f"{url}/status", json={"status": "inspecting"}))
    ok(client.post(f"{url}/notes", json={"note": "visited the warehouse"}))
    ok(client.post(f"{url}/status", json={"status": "violation", "note": "fake logos"}))
    closed = ok(
        client.post(
            f"{url}/close",
            json={
                "violation_kind": "counterfeit_goods",
                "fine_vnd": 15_000_000,
                "goods_value_vnd": 42_500_000,
                "quantity_seized": 120,
            },
        )
    )
    assert (closed["status"], closed["outcome"], closed["fine_vnd"]) == (
        "closed",
        "violation",
        15_000_000,
    )
    kinds = [(e["kind"], e["to_status"], e["actor"]) for e in closed["history"]]
    assert kinds == [
        ("created", "open", "local"),
        ("item_added", None, "local"),
        ("item_added", None, "local"),
        ("status", "inspecting", "local"),
        ("note", None, "local"),
        ("status", "violation", "local"),
        ("closed", "closed", "local"),
    ]
    assert client.post(f"{url}/status", json={"status": "inspecting"}).status_code == 409

    r = client.get(f"{url}/evidence")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert 'filename="case-' in r.headers["content-disposition"]
    leftovers = list(Path(tempfile.gettempdir()).glob("counterscan-evidence-*"))
    assert not leftovers, leftovers  # built on disk, removed once sent
    package = tmp_path / "case.zip"
    package.write_bytes(r.content)
    assert verify_package(package, keys[1]).ok
    with zipfile.ZipFile(package) as zf:
        names = set(zf.namelist())
        for item, photo in zip(items[:2], photos[:2], strict=True):
            assert zf.read(f"photos/{item['id']}.jpg") == photo  # byte for byte
            assert f"heatmaps/{item['id']}.png" in names
        record = json.loads(zf.read("case.json"))
        manifest = json.loads(zf.read("manifest.json"))
        summary = zf.read("summary.html").decode()
    assert {"case.json", "summary.html", "manifest.json", "manifest.sig"} <= names
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert listed[f"photos/{a}.jpg"] == sha256_bytes(photos[0])
    first = record["items"][0]
    assert (first["sha256"], first["url"], first["source"], first["listing_id"]) == (
        sha256_bytes(photos[0]),
        "https://a.example/0",
        "shop-a",
        "L-0",
    )
    assert first["model_version"] and 0 <= first["score"] <= 1 and first["priority"]
    assert "similar_matches" in first and record["heatmaps"] == "included"
    assert "Hồ sơ chứng cứ" in summary and "hàng giả" in summary  # Vietnamese by default
    assert "Tiền phạt" in summary and "15.000.000" in summary
    assert "verify &lt;tệp.zip&gt; --public-key &lt;khóa.pub&gt;" in summary  # text, not tags
    # The download is in the history: who and when.
    history = ok(client.get(url))["history"]
    assert history[-1]["kind"] == "evidence_download" and history[-1]["actor"] == "local"
    english = client.get(f"{url}/evidence", params={"lang": "en"})
    with zipfile.ZipFile(io.BytesIO(english.content)) as zf:
        assert "Case evidence package" in zf.read("summary.html").decode()

    # Tampering: one byte of one photo; a removed and an added file; another key.
    def flip(files: dict[str, bytes]) -> None:
        data = bytearray(files[f"photos/{b}.jpg"])
        data[len(data) // 2] ^= 0x01
        files[f"photos/{b}.jpg"] = bytes(data)

    def remove_and_add(files: dict[str, bytes]) -> None:
        del files[f"heatmaps/{a}.png"]
        files["photos/extra.jpg"] = photos[2]

    bad = tmp_path / "bad.zip"
    bad.write_bytes(rezip(r.content, flip))
    result = verify_package(bad, keys[1])
    assert not result.ok and result.signature_ok
    assert result.problems() == [f"changed: photos/{b}.jpg"]
    bad.write_bytes(rezip(r.content, remove_and_add))
    assert verify_package(bad, keys[1]).problems() == [
        "added: photos/extra.jpg",
        f"removed: heatmaps/{a}.png",
    ]
    other = keygen(tmp_path / "other")
    result = verify_package(package, other[1])
    assert not result.ok and result.problems() == [
        "the signature does not verify with this public key"
    ]


def test_refusals_and_errors(client: Any, make_image) -> None:
    item = score(client, make_image("JPEG", (200, 200), seed=9))["id"]
    assert client.post("/v1/cases", json={"title": "", "item_ids": [item]}).status_code == 422
    r = client.post("/v1/cases", json={"title": "x", "item_ids": ["f" * 32]})
    assert r.status_code == 404 and "no item" in r.json()["detail"]
    assert client.post("/v1/cases", json={"title": "x", "item_ids": ["../x"]}).status_code == 422
    assert client.get("/v1/cases/999").status_code == 404
    assert client.get("/v1/cases/abc").status_code == 422
    case = ok(client.post("/v1/cases", json={"title": "x", "item_ids": [item]}), 201)
    url = f"/v1/cases/{case['id']}"
    r = client.post(f"{url}/status", json={"status": "violation"})
    assert r.status_code == 409 and "can move to inspecting" in r.json()["detail"]
    r = client.post(f"{url}/close", json={})
    assert r.status_code == 409
    r = client.post(f"{url}/close", json={"fine_vnd": -5})
    assert r.status_code == 422
    assert client.post(f"{url}/status", json={"status": "closed"}).status_code == 422


def test_list_filter_assign_and_items(client: Any, make_image) -> None:
    a = score(client, make_image("JPEG", (200, 200), seed=11))["id"]
    b = score(client, make_image("JPEG", (200, 200), seed=12))["id"]
    one = ok(client.post("/v1/cases", json={"title": "one", "item_ids": [a]}), 201)
    two = ok(
        client.post("/v1/cases", json={"title": "two", "inspector": "bao", "item_ids": [b]}), 201
    )
    ok(client.post(f"/v1/cases/{one['id']}/status", json={"status": "inspecting"}))
    page = ok(client.get("/v1/cases", params={"inspector": "bao"}))
    assert [c["id"] for c in page["cases"]] == [two["id"]] and page["total"] == 1
    assert page["inspectors"] == ["bao", "local"]
    assert ok(client.get("/v1/cases", params={"status": "inspecting"}))["total"] == 1
    assert ok(client.get("/v1/cases", params={"status": "active"}))["total"] == 2
    assert ok(client.get("/v1/cases", params={"item_id": a}))["cases"][0]["id"] == one["id"]
    page = ok(client.get("/v1/cases", params={"limit": 1, "offset": 1}))
    assert [c["id"] for c in page["cases"]] == [one["id"]] and page["total"] == 2
    first = ok(client.get("/v1/cases", params={"limit": 1}))
    assert first["total_is_estimate"] is False and first["next_cursor"]
    after = ok(client.get("/v1/cases", params={"limit": 1, "after": first["next_cursor"]}))
    assert [c["id"] for c in after["cases"]] == [one["id"]] and after["next_cursor"] is None
    url = f"/v1/cases/{two['id']}"
    assert ok(client.post(f"{url}/items", json={"item_ids": [a, b]}))["item_ids"] == [b, a]
    assert ok(client.delete(f"{url}/items/{a}"))["item_ids"] == [b]
    moved = ok(client.patch(url, json={"inspector": "cat", "title": "two (Shop B)"}))
    assert (moved["inspector"], moved["title"]) == ("cat", "two (Shop B)")
    assert moved["history"][-1]["kind"] == "assigned"


def test_evidence_without_a_signing_key_is_refused(
    make_client: Callable[..., Any], db_url: str, data_dir: Path, make_image
) -> None:
    client = make_client(db=db_url, data_dir=data_dir)
    item = score(client, make_image("JPEG", (64, 64), seed=5))["id"]
    case = ok(client.post("/v1/cases", json={"title": "x", "item_ids": [item]}), 201)
    r = client.get(f"/v1/cases/{case['id']}/evidence")
    assert r.status_code == 503 and "COUNTERSCAN_EVIDENCE_KEY" in r.json()["detail"]


def test_roles_crawlers_cannot_see_cases(
    make_client: Callable[..., Any],
    db_url: str,
    data_dir: Path,
    api_keys_setting,
    test_keys,
    make_image,
) -> None:
    client = make_client(db=db_url, data_dir=data_dir, api_keys=api_keys_setting)
    inspector = {"X-API-Key": test_keys["inspector"]}
    crawler = {"X-API-Key": test_keys["crawler"]}
    photo = {"image": ("photo", make_image("JPEG", (64, 64), seed=6))}
    item = ok(client.post("/v1/score", files=photo, headers=inspector))["id"]
    body = {"title": "x", "item_ids": [item]}
    case = ok(client.post("/v1/cases", json=body, headers=inspector), 201)
    assert case["created_by"] == "ana" and case["history"][0]["actor"] == "ana"
    for method, url in (
        ("GET", "/v1/cases"),
        ("GET", f"/v1/cases/{case['id']}"),
        ("GET", f"/v1/cases/{case['id']}/evidence"),
        ("POST", "/v1/cases"),
    ):
        assert client.request(method, url, headers=crawler).status_code == 403
    assert client.get("/v1/cases").status_code == 401


def test_case_links_the_sellers_of_its_items(client: Any, make_image, tmp_path: Path) -> None:
    """Two items of seller S-1 (two listings), one of S-2, one without a listing: the case
    names S-1 and S-2 once each, and its evidence says which listing and seller each photo
    came from."""

    def photo(seed: int, **form: str) -> str:
        return score(client, make_image("JPEG", (200, 200), seed=seed), **form)["id"]

    shop = {"source": "shopee", "seller_id": "S-1", "seller_name": "Giày Đẹp"}
    a = photo(21, listing_id="L-1", category="giày", **shop)
    b = photo(22, listing_id="L-2", **shop)
    c = photo(23, listing_id="L-3", source="tiktok", seller_id="S-2")
    d = photo(24)
    case = ok(client.post("/v1/cases", json={"title": "shops", "item_ids": [a, b, c, d]}), 201)
    expected = [
        {"source": "shopee", "seller_id": "S-1", "name": "Giày Đẹp"},
        {"source": "tiktok", "seller_id": "S-2", "name": None},
    ]
    assert case["sellers"] == expected
    assert ok(client.get(f"/v1/cases/{case['id']}"))["sellers"] == expected
    lone = ok(client.post("/v1/cases", json={"title": "lone", "item_ids": [d]}), 201)
    assert lone["sellers"] == []

    r = client.get(f"/v1/cases/{case['id']}/evidence")
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        record = json.loads(zf.read("case.json"))
        summary = zf.read("summary.html").decode()
    assert record["case"]["sellers"] == expected
    entries = {e["item_id"]: e for e in record["items"]}
    assert entries[a]["seller"] == expected[0] and entries[c]["seller"] == expected[1]
    assert entries[a]["listings"] == [
        {"source": "shopee", "listing_id": "L-1", "category": "giày", "seller": expected[0]}
    ]
    assert entries[d]["seller"] is None and entries[d]["listings"] == []
    assert "Giày Đẹp (S-1, shopee)" in summary


def test_case_opened_from_a_seller(client: Any, make_image) -> None:
    """Every photo of every listing of the seller joins the case, besides any items given; an
    unknown seller is a 404 naming it; neither items nor a seller is a 422."""

    def photo(seed: int, **form: str) -> str:
        return score(client, make_image("JPEG", (200, 200), seed=seed), **form)["id"]

    a = photo(31, listing_id="L-1", source="shopee", seller_id="S-1")
    b = photo(32, listing_id="L-1", source="shopee", seller_id="S-1")
    c = photo(33, listing_id="L-2", source="shopee", seller_id="S-1")
    other = photo(34, listing_id="L-9", source="shopee", seller_id="S-2")
    same_id = photo(35, listing_id="L-5", source="tiktok", seller_id="S-1")
    loose = photo(36)
    seller = {"source": "shopee", "seller_id": "S-1"}
    case = ok(client.post("/v1/cases", json={"title": "S-1", "seller": seller}), 201)
    assert sorted(case["item_ids"]) == sorted([a, b, c])
    assert case["sellers"] == [{"source": "shopee", "seller_id": "S-1", "name": None}]
    both = {"title": "both", "item_ids": [loose, b], "seller": seller}
    case = ok(client.post("/v1/cases", json=both), 201)
    assert sorted(case["item_ids"]) == sorted([loose, a, b, c])
    assert other not in case["item_ids"] and same_id not in case["item_ids"]

    unknown = {"title": "x", "seller": {"source": "lazada", "seller_id": "S-1"}}
    r = client.post("/v1/cases", json=unknown)
    assert r.status_code == 404 and r.json()["detail"] == "no seller 'S-1' on source 'lazada'"
    r = client.post("/v1/cases", json={"title": "x"})
    assert r.status_code == 422 and "item_ids, a seller, or both" in r.text
    r = client.post("/v1/cases", json={"title": "x", "item_ids": [], "seller": None})
    assert r.status_code == 422
    assert (
        client.post("/v1/cases", json={"title": "x", "seller": {"source": "shopee"}}).status_code
        == 422
    )
    assert ok(client.get("/v1/cases"))["total"] == 2  # refusals open nothing
