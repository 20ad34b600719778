"""Access: every route of the app, for every role and for no key, from one table (ROUTES) that
must list exactly the app's routes, so a new route fails here until someone decides who may call
it; keys never appear in logs, error bodies or the database; ids and paths cannot reach files
outside the data folder; verdicts record who gave them.
"""

from __future__ import annotations

import http.client
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi import routing
from starlette.routing import Mount

from counterscan.serve.api.openapi import api_routes, required_roles
from counterscan.serve.app import create_app
from counterscan.serve.settings import Settings

PUBLIC = None  # no key needed
ANY_KEY = ()  # any valid key, whatever its role
# The access table: (method, path) -> (who may call it besides admin, the request to send).
# Requests: None (no body), "photo" (one image), "photos" (a multipart batch), "verdict", case
# bodies every allowed caller may send again and again; "bare": a request whose body is missing
# on purpose (the step would change the case for good), so an allowed caller gets 422, not 403;
# "unknown id": a well-formed id of no item in the case, so an allowed caller gets 404.
ROUTES: dict[tuple[str, str], tuple[tuple[str, ...] | None, str | None]] = {
    ("GET", "/healthz"): (PUBLIC, None),
    ("GET", "/readyz"): (PUBLIC, None),
    ("GET", "/metrics"): (PUBLIC, None),
    ("GET", "/"): (PUBLIC, None),
    ("GET", "/console"): (PUBLIC, None),
    ("GET", "/v1/model"): (ANY_KEY, None),
    ("POST", "/v1/admin/reload"): (("admin",), None),
    ("POST", "/v1/score"): (("crawler", "inspector"), "photo"),
    ("POST", "/v1/score/batch"): (("crawler", "inspector"), "photos"),
    ("GET", "/v1/queue"): (("inspector",), None),
    ("GET", "/v1/items/{item_id}"): (("inspector",), None),
    ("GET", "/v1/items/{item_id}/image"): (("inspector",), None),
    ("GET", "/v1/items/{item_id}/thumbnail"): (("inspector",), None),
    ("GET", "/v1/items/{item_id}/heatmap"): (("inspector",), None),
    ("POST", "/v1/items/{item_id}/verdict"): (("inspector",), "verdict"),
    ("GET", "/v1/items/{item_id}/similar"): (("inspector",), None),
    # The case register, its evidence and the office's reports: inspectors, never crawlers.
    ("POST", "/v1/cases"): (("inspector",), "new case"),
    ("GET", "/v1/cases"): (("inspector",), None),
    ("GET", "/v1/cases/{case_id}"): (("inspector",), None),
    ("PATCH", "/v1/cases/{case_id}"): (("inspector",), "rename"),
    ("POST", "/v1/cases/{case_id}/status"): (("inspector",), "bare"),
    ("POST", "/v1/cases/{case_id}/close"): (("inspector",), "bare"),
    ("POST", "/v1/cases/{case_id}/notes"): (("inspector",), "note"),
    ("POST", "/v1/cases/{case_id}/items"): (("inspector",), "case items"),
    ("DELETE", "/v1/cases/{case_id}/items/{item_id}"): (("inspector",), "unknown id"),
    ("GET", "/v1/cases/{case_id}/evidence"): (("inspector",), None),
    ("GET", "/v1/reports/summary"): (("inspector",), None),
    ("GET", "/v1/reports/summary/download"): (("inspector",), None),
    # Listings, sellers and early warnings: inspectors, never crawlers.
    ("GET", "/v1/sellers"): (("inspector",), None),
    ("GET", "/v1/sellers/{source}/{seller_id}"): (("inspector",), None),
    ("GET", "/v1/trends"): (("inspector",), None),
    ("GET", "/v1/alerts"): (("inspector",), None),
    ("POST", "/v1/alerts/{alert_id}/ack"): (("inspector",), "unknown id"),
}
# Routes outside the API that anyone may call: the API document and the console's files.
PUBLIC_OTHER = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static"}
CALLERS = ("no key", "wrong key", "crawler", "inspector", "admin")
WRONG_KEY = "rel-wrong-key-0123456789"


def _app_routes() -> dict[tuple[str, str], tuple[str, ...] | None]:
    """(method, path) -> the roles the app's own route requires (None: no key needed)."""
    app = create_app(Settings(model=None))
    return {
        (method, route.path_format): required_roles(route)
        for route in api_routes(app)
        for method in sorted(route.methods - {"HEAD"})
    }


def test_the_table_lists_every_route_with_its_roles() -> None:
    found = _app_routes()
    unlisted = sorted(set(found) - set(ROUTES))
    assert not unlisted, f"routes missing from ROUTES (say who may call them): {unlisted}"
    assert not set(ROUTES) - set(found), (
        f"ROUTES lists routes the app lacks: {set(ROUTES) - set(found)}"
    )
    for key, roles in found.items():
        assert roles == ROUTES[key][0], f"{key} requires {roles}, the table says {ROUTES[key][0]}"


def test_every_other_route_is_public() -> None:
    app = create_app(Settings(model=None))
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount) or not hasattr(route, "dependant"):
            assert (context.path_format or "").split("/{")[0] in PUBLIC_OTHER, context.path_format


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
    from counterscan.serve.cases.evidence import keygen

    key, _ = keygen(root / "office")
    with open_app(root, api_keys=rel_keys_setting, evidence_key=key) as client:
        files = {"image": ("a.jpg", hostile.photo((80, 60), fmt="JPEG"), "image/jpeg")}
        seller = {"listing_id": "rel-listing", "source": "rel", "seller_id": "rel-seller"}
        r = client.post(
            "/v1/score", files=files, data=seller, headers={"X-API-Key": rel_keys["crawler"]}
        )
        assert r.status_code == 200, r.text
        client.item_id = r.json()["id"]  # type: ignore[attr-defined]
        r = client.post(
            "/v1/cases",
            json={"title": "access", "item_ids": [client.item_id]},
            headers={"X-API-Key": rel_keys["inspector"]},
        )
        assert r.status_code == 201, r.text
        client.case_id = r.json()["id"]  # type: ignore[attr-defined]
        client.db_path = root / "cs.db"  # type: ignore[attr-defined]
        yield client


def _request(
    path: str, send: str | None, item_id: str, case_id: int, hostile: Any
) -> tuple[str, dict]:
    """The URL (the world's item, case and seller in it) and a request of the kind the table
    names."""
    if send == "unknown id":
        item_id = "0" * 32
    url = path.replace("{item_id}", item_id).replace("{alert_id}", item_id)
    url = url.replace("{case_id}", str(case_id))
    url = url.replace("{source}/{seller_id}", "rel/rel-seller")  # the world's item's seller
    photo = hostile.photo((64, 64), fmt="JPEG")
    bodies: dict[str | None, dict[str, Any]] = {
        None: {},
        "photo": {"files": {"image": ("a.jpg", photo, "image/jpeg")}},
        "photos": {"files": [("images", ("a.jpg", photo, "image/jpeg"))]},
        "verdict": {"json": {"verdict": "unsure", "note": "acl"}},
        "new case": {"json": {"title": "acl", "item_ids": [item_id]}},
        "rename": {"json": {"title": "access"}},
        "note": {"json": {"note": "acl"}},
        "case items": {"json": {"item_ids": [item_id]}},
        "bare": {},
        "unknown id": {},
    }
    return url, bodies[send]


def _headers(caller: str, keys: dict[str, str]) -> dict[str, str]:
    if caller == "no key":
        return {}
    if caller == "wrong key":
        return {"X-API-Key": WRONG_KEY}
    if caller == "inspector":  # the other accepted spelling
        return {"Authorization": f"Bearer {keys['inspector']}"}
    return {"X-API-Key": keys[caller]}


@pytest.mark.parametrize(
    ("method", "path", "roles", "send"),
    [(m, p, roles, send) for (m, p), (roles, send) in ROUTES.items()],
    ids=[f"{m} {p}" for m, p in ROUTES],
)
def test_route_for_every_caller(
    world: Any,
    method: str,
    path: str,
    roles: tuple[str, ...] | None,
    send: str | None,
    rel_keys,
    hostile,
) -> None:
    url, body = _request(path, send, world.item_id, world.case_id, hostile)
    allowed = {"new case": 201, "bare": 422, "unknown id": 404}.get(send or "", 200)
    for caller in CALLERS:
        r = world.request(method, url, headers=_headers(caller, rel_keys), **body)
        said = f"{caller}: {method} {url} -> {r.status_code} {r.text[:200]}"
        if roles is None:
            assert r.status_code == 200, said
        elif caller in ("no key", "wrong key"):
            assert r.status_code == 401, said
            assert r.headers["www-authenticate"] == "Bearer"
            assert WRONG_KEY not in r.text
        elif caller == "admin" or not roles or caller in roles:
            assert r.status_code == allowed, said
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
    # One status each: a path that reaches no route (dot segments, encoded slashes splitting the
    # id, anything under /static that is not one of its files) is 404; an id that reaches the
    # item routes but is not 32 lowercase hex digits is malformed, 422.
    attempts = [
        (f"/v1/items/{up}etc/passwd/image", 404),
        (f"/v1/items/{up}secret.txt", 404),
        ("/v1/items/..%2f..%2f..%2f..%2fetc%2fpasswd/image", 404),
        ("/v1/items/%2e%2e%2f%2e%2e%2fsecret.txt/image", 404),
        (f"/v1/items/{item}/../../../secret.txt", 404),
        (f"/v1/items/{item}%2f..%2f..%2fsecret.txt/image", 404),
        (f"/v1/items/{item}%00/image", 422),
        (f"/v1/items/{item.upper()}/image", 422),
        (f"/v1/items/{item}0/image", 422),
        (f"/v1/items/{item[:-1]}/thumbnail", 422),
        ("/v1/items/%u002e%u002e/image", 422),
        (f"/static/{up}etc/passwd", 404),
        ("/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", 404),
        ("/static/..%2f..%2f..%2fapp.py", 404),
        ("/static/../app.py", 404),
        ("/static//etc/passwd", 404),
        (f"/static/{up}{data_dir.parent.relative_to('/')}/secret.txt", 404),
    ]
    for path, expected in attempts:
        status, body = _raw_get(module_server, path, rel_keys["admin"])
        assert status == expected, (path, status, body[:200])
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
