"""Access: every route of the app, for every role and for no key (table-driven from the app's
own routes, so a new route is covered, or fails here, without anyone editing this file); keys
never appear in logs, error bodies or the database; ids and paths cannot reach files outside
the data folder; verdicts record who gave them.
"""

from __future__ import annotations

import http.client
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi import routing
from starlette.routing import Mount

from counterscan.serve.api.openapi import api_routes, required_roles
from counterscan.serve.app import create_app
from counterscan.serve.settings import Settings

# Routes anyone may call: probes, metrics, the console page and its files, the API document.
PUBLIC = {
    "/healthz", "/readyz", "/metrics", "/", "/console", "/static",
    "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
}  # fmt: skip
CALLERS = ("no key", "wrong key", "crawler", "inspector", "admin")
WRONG_KEY = "rel-wrong-key-0123456789"


def _app_routes() -> list[tuple[str, str, tuple[str, ...] | None]]:
    """(method, path, roles) of every API route; roles None = no key needed."""
    app = create_app(Settings(model=None))
    found = []
    for route in api_routes(app):
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, route.path_format, required_roles(route)))
    return found


ROUTES = _app_routes()


@pytest.fixture(scope="module")
def world(
    open_app: Any,
    tmp_path_factory: pytest.TempPathFactory,
    rel_keys_setting: str,
    rel_keys: dict[str, str],
    hostile: Any,
) -> Any:
    """An in-process app with keys for every role, and one item scored by the crawler."""
    root = tmp_path_factory.mktemp("access")
    with open_app(root, api_keys=rel_keys_setting) as client:
        files = {"image": ("a.jpg", hostile.photo((80, 60), fmt="JPEG"), "image/jpeg")}
        seller = {"listing_id": "rel-listing", "source": "rel", "seller_id": "rel-seller"}
        r = client.post(
            "/v1/score", files=files, data=seller, headers={"X-API-Key": rel_keys["crawler"]}
        )
        assert r.status_code == 200, r.text
        client.item_id = r.json()["id"]  # type: ignore[attr-defined]
        client.db_path = root / "cs.db"  # type: ignore[attr-defined]
        yield client


def _request(method: str, path: str, item_id: str, hostile: Any) -> tuple[str, dict[str, Any]]:
    """A valid request for the routes we know; a bare one for routes added later."""
    # Sellers (inspectors and admins; crawlers 403): the seller the world's item was sent with.
    paths = {"/v1/sellers/{source}/{seller_id}": "/v1/sellers/rel/rel-seller"}
    url = re.sub(r"\{[^}]*id[^}]*\}", item_id, path)
    url = paths.get(path, re.sub(r"\{[^}]*\}", "x", url))
    photo = hostile.photo((64, 64), fmt="JPEG")
    known: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/v1/score"): {"files": {"image": ("a.jpg", photo, "image/jpeg")}},
        ("POST", "/v1/score/batch"): {"files": [("images", ("a.jpg", photo, "image/jpeg"))]},
        ("POST", "/v1/items/{item_id}/verdict"): {"json": {"verdict": "unsure", "note": "acl"}},
    }
    return url, known.get((method, path), {})


def _headers(caller: str, keys: dict[str, str]) -> dict[str, str]:
    if caller == "no key":
        return {}
    if caller == "wrong key":
        return {"X-API-Key": WRONG_KEY}
    if caller == "inspector":  # the other accepted spelling
        return {"Authorization": f"Bearer {keys['inspector']}"}
    return {"X-API-Key": keys[caller]}


def test_every_route_checks_a_role_or_is_public() -> None:
    app = create_app(Settings(model=None))
    for method, path, roles in ROUTES:
        assert roles is not None or path in PUBLIC, f"{method} {path} needs no API key"
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount) or not hasattr(route, "dependant"):
            assert (context.path_format or "").split("/{")[0] in PUBLIC, context.path_format


@pytest.mark.parametrize(
    ("method", "path", "roles"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_route_for_every_caller(
    world: Any, method: str, path: str, roles: tuple[str, ...] | None, rel_keys, hostile
) -> None:
    url, body = _request(method, path, world.item_id, hostile)
    known = bool(body) or method == "GET" or path == "/v1/admin/reload"
    for caller in CALLERS:
        r = world.request(method, url, headers=_headers(caller, rel_keys), **body)
        said = f"{caller}: {method} {url} -> {r.status_code} {r.text[:200]}"
        assert r.status_code < 500, said
        if roles is None:
            assert r.status_code not in (401, 403), said
        elif caller in ("no key", "wrong key"):
            assert r.status_code == 401, said
            assert r.headers["www-authenticate"] == "Bearer"
            assert WRONG_KEY not in r.text
        elif caller == "admin" or not roles or caller in roles:
            assert r.status_code == 200 if known else r.status_code not in (401, 403), said
        else:
            assert r.status_code == 403, said
            assert f"needs {' or '.join(roles)}" in r.json()["detail"]


def test_verdicts_record_who_gave_them(world: Any, rel_keys: dict[str, str], rel_key_names):
    url = f"/v1/items/{world.item_id}/verdict"
    sent = [
        ("inspector", {"verdict": "counterfeit", "note": "own name"}),
        ("inspector2", {"verdict": "genuine", "note": "for a colleague", "inspector": "cat"}),
        ("admin", {"verdict": "unsure", "note": "admin"}),
    ]
    for role, body in sent:
        r = world.post(url, json=body, headers={"X-API-Key": rel_keys[role]})
        assert r.status_code == 200, r.text
    history = world.get(f"/v1/items/{world.item_id}", headers={"X-API-Key": rel_keys["admin"]})
    mine = [
        v
        for v in history.json()["verdicts"]
        if v["note"] in ("own name", "for a colleague", "admin")
    ]
    assert [v["inspector"] for v in mine] == ["ana", "cat", "root"]
    # Who sent each one is kept for audit even when the inspector field names someone else.
    with sqlite3.connect(world.db_path) as db:
        rows = db.execute(
            "SELECT inspector, recorded_by FROM verdicts WHERE note IN (?, ?, ?) ORDER BY id",
            ("own name", "for a colleague", "admin"),
        ).fetchall()
    names = rel_key_names
    assert rows == [
        ("ana", names["inspector"]),
        ("cat", names["inspector2"]),
        ("root", names["admin"]),
    ]


# ---------------------------------------------------------------------------- a real process

SECRET = "REL-SECRET-MARKER-7f3a"


def _raw_get(server: Any, path: str, key: str) -> tuple[int, bytes]:
    """GET with the path sent byte for byte (HTTP clients would resolve the dots first)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.spec.port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.putheader("X-API-Key", key)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_ids_and_paths_cannot_reach_outside_the_data_folder(
    module_server: Any, rel_keys: dict[str, str], hostile: Any
) -> None:
    data_dir = module_server.spec.data_dir
    (data_dir.parent / "secret.txt").write_text(SECRET)  # beside the data folder
    with module_server.client(rel_keys["crawler"]) as http_client:
        files = {"image": ("a.jpg", hostile.photo((50, 70), fmt="JPEG"))}
        item = http_client.post("/v1/score", files=files).json()["id"]
    up = "../" * 8
    attempts = [
        f"/v1/items/{up}etc/passwd/image",
        f"/v1/items/{up}secret.txt",
        "/v1/items/..%2f..%2f..%2f..%2fetc%2fpasswd/image",
        "/v1/items/%2e%2e%2f%2e%2e%2fsecret.txt/image",
        f"/v1/items/{item}/../../../secret.txt",
        f"/v1/items/{item}%2f..%2f..%2fsecret.txt/image",
        f"/v1/items/{item}%00/image",
        f"/v1/items/{item.upper()}/image",
        f"/v1/items/{item}0/image",
        f"/v1/items/{item[:-1]}/thumbnail",
        "/v1/items/%u002e%u002e/image",
        f"/static/{up}etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2fapp.py",
        "/static/../app.py",
        "/static//etc/passwd",
        f"/static/{up}{data_dir.parent.relative_to('/')}/secret.txt",
    ]
    for path in attempts:
        status, body = _raw_get(module_server, path, rel_keys["admin"])
        assert status in (400, 404, 422), (path, status, body[:200])
        assert SECRET.encode() not in body and b"root:" not in body and b"create_app" not in body
    assert _raw_get(module_server, f"/v1/items/{item}/image", rel_keys["admin"])[0] == 200


def test_keys_never_in_logs_error_bodies_or_the_database(
    module_server: Any, rel_keys: dict[str, str], hostile: Any
) -> None:
    photo = hostile.photo((40, 40), fmt="JPEG")
    near_misses = [k + "x" for k in rel_keys.values()] + [k[:-1] for k in rel_keys.values()]
    answers: list[str] = []
    with module_server.client() as http_client:
        for key in [*rel_keys.values(), *near_misses, WRONG_KEY]:
            for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
                for r in (
                    http_client.post("/v1/score", headers=headers, files={"image": ("a", photo)}),
                    http_client.post("/v1/score", headers=headers, files={"image": ("a", b"x")}),
                    http_client.post("/v1/score/batch", headers=headers, content=b"{"),
                    http_client.get("/v1/queue?limit=0", headers=headers),
                    http_client.post("/v1/admin/reload", headers=headers, json={"path": "/no"}),
                    http_client.get("/v1/items/00", headers=headers),
                ):
                    answers.append(f"{r.status_code} {r.headers} {r.text}")
        answers.append(http_client.get("/metrics").text)
    module_server.stop()  # flush the log
    db = Path(module_server.spec.db.removeprefix("sqlite:///")).read_bytes()
    log = module_server.log_text()
    assert "POST /v1/score" in log  # the access log is there to search
    for key in [*rel_keys.values(), *near_misses]:
        assert key not in log, "a key is in the server log"
        assert key.encode() not in db, "a key is in the database"
        leaked = [a for a in answers if key in a]
        assert not leaked, leaked[0][:300]
    module_server.start()
