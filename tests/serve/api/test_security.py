"""API keys and roles: 401 without or with a wrong key, 403 for a role not allowed, admin
everywhere, the local admin when no keys are set, and no listening beyond loopback without keys."""

from __future__ import annotations

import logging

import pytest

from counterscan.errors import CounterscanError
from counterscan.serve.api.security import KeyRing, check_exposure
from counterscan.serve.settings import ApiKey, Settings


@pytest.fixture
def client(make_client, api_keys_setting):
    return make_client(api_keys=api_keys_setting)


def _score(client, make_image, headers):
    files = {"image": ("p.jpg", make_image(), "image/jpeg")}
    return client.post("/v1/score", files=files, headers=headers)


def test_missing_and_wrong_keys_are_401(client, make_image, test_keys) -> None:
    r = _score(client, make_image, {})
    assert r.status_code == 401
    assert "missing API key" in r.json()["detail"]
    r = _score(client, make_image, {"X-API-Key": test_keys["crawler"] + "x"})
    assert r.status_code == 401
    assert r.json() == {"detail": "invalid API key"}
    assert client.get("/v1/model").status_code == 401


def test_roles(client, make_image, test_keys) -> None:
    crawler = {"X-API-Key": test_keys["crawler"]}
    inspector = {"Authorization": f"Bearer {test_keys['inspector']}"}
    admin = {"X-API-Key": test_keys["admin"]}
    for headers in (crawler, inspector, admin):
        assert _score(client, make_image, headers).status_code == 200
        assert client.get("/v1/model", headers=headers).status_code == 200
    # Reload is admin's alone.
    for headers in (crawler, inspector):
        r = client.post("/v1/admin/reload", headers=headers)
        assert r.status_code == 403
        assert "needs admin" in r.json()["detail"]
    assert client.post("/v1/admin/reload", headers=admin).status_code == 200
    # The queue is for inspectors (and admin), not crawlers.
    assert client.get("/v1/queue", headers=crawler).status_code == 403
    assert client.get("/v1/queue", headers=inspector).status_code == 200
    assert client.get("/v1/queue", headers=admin).status_code == 200


def test_operations_need_no_key(client) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_without_keys_everyone_is_the_local_admin(app_client, make_image) -> None:
    assert _score(app_client, make_image, {}).status_code == 200
    assert app_client.post("/v1/admin/reload").status_code == 200


def test_keys_never_logged(client, make_image, test_keys, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    _score(client, make_image, {"X-API-Key": test_keys["crawler"]})
    _score(client, make_image, {"X-API-Key": "wrong-key-0123456789"})
    text = caplog.text
    assert test_keys["crawler"] not in text and "wrong-key-0123456789" not in text


def test_keyring_identifies_by_whole_key() -> None:
    ring = KeyRing([ApiKey("a" * 20, "crawler", "bot"), ApiKey("b" * 20, "admin", "root")])
    assert ring.identify("a" * 20).name == "bot"
    assert ring.identify("b" * 20).role == "admin"
    assert ring.identify("a" * 19) is None
    assert ring.identify("") is None


def test_no_keys_refuses_non_loopback() -> None:
    check_exposure(Settings(host="127.0.0.1"))
    with pytest.raises(
        CounterscanError, match=r"refusing to listen on 0\.0\.0\.0 without API keys"
    ):
        check_exposure(Settings(host="0.0.0.0"))
    check_exposure(Settings(host="0.0.0.0", api_keys="k" * 20 + ":admin:root"))  # type: ignore[arg-type]
