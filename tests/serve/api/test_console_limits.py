"""The console's text inputs take their length limits from the server (/static/limits.json,
made from storage/fields.py), never from numbers of their own: before, the page let an
inspector type a 200-character source that the API then refused (it keeps 128)."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from counterscan.serve.api.routes import console
from counterscan.serve.storage.fields import MAX_LEN


def test_limits_come_from_the_server() -> None:
    app = FastAPI()
    app.include_router(console.router)
    with TestClient(app) as client:
        r = client.get("/static/limits.json")
    assert r.status_code == 200
    assert r.json() == {"max_len": MAX_LEN}
    assert r.json()["max_len"]["source"] == 128
    assert r.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_no_console_script_sets_a_length_of_its_own() -> None:
    scripts = sorted((console.STATIC_DIR / "js").rglob("*.js"))
    assert scripts
    own = re.compile(r"maxlength\s*:\s*['\"]?\d|maxLength\s*=\s*\d", re.IGNORECASE)
    for script in scripts:
        assert not own.search(script.read_text(encoding="utf-8")), script.name
    uses = [s.name for s in scripts if "limitLength(" in s.read_text(encoding="utf-8")]
    assert {"check.js", "queue.js", "item.js"} <= set(uses)
