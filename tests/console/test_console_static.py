"""The console's files without a browser: dictionaries complete in both languages, every key the
page uses exists, nothing loaded from the internet, and the router's headers."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from counterscan.serve.api.routes import console

STATIC = Path(console.STATIC_DIR)
LANGS = ("vi", "en")
PLURAL_FORMS = (".one", ".other")


def _dict(lang: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def _sources() -> dict[Path, str]:
    files = [STATIC / "index.html", *sorted((STATIC / "js").rglob("*.js"))]
    return {path: path.read_text(encoding="utf-8") for path in files}


def _used_keys(namespaces: set[str]) -> set[str]:
    """Keys the page names: data-i18n attributes, and quoted 'area.name' strings in scripts."""
    used: set[str] = set()
    for path, text in _sources().items():
        if path.suffix == ".html":
            used.update(re.findall(r'data-i18n="([^"]+)"', text))
            for attr in re.findall(r'data-i18n-attr="([^"]+)"', text):
                used.update(pair.split(":", 1)[1].strip() for pair in attr.split(";"))
        else:
            for literal in re.findall(r"'([a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+)'", text):
                if literal.split(".")[0] in namespaces:
                    used.add(literal)
    return used


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    vi, en = _dict("vi"), _dict("en")
    assert set(vi) == set(en), f"only vi: {set(vi) - set(en)}; only en: {set(en) - set(vi)}"
    for key in vi:
        assert vi[key].strip() and en[key].strip(), f"empty text for {key}"
        holes = [set(re.findall(r"\{(\w+)\}", d[key])) for d in (vi, en)]
        assert holes[0] == holes[1], f"{key}: placeholders differ {holes}"


def test_vietnamese_is_vietnamese() -> None:
    vi = _dict("vi")
    for key, want in {
        "nav.check": "Kiểm tra ảnh",
        "nav.queue": "Hàng đợi",
        "verdict.counterfeit": "Hàng giả",
        "verdict.genuine": "Hàng thật",
        "verdict.unsure": "Chưa chắc chắn",
        "priority.label": "Mức ưu tiên",
        "priority.high": "Cao",
        "priority.medium": "Trung bình",
        "priority.low": "Thấp",
    }.items():
        assert vi[key] == want
    # Precomposed (NFC) letters, as typed by Vietnamese keyboards and searched by browsers.
    assert all(unicodedata.is_normalized("NFC", text) for text in vi.values())
    # Not just English left in place: the two dictionaries differ almost everywhere.
    same = [k for k in vi if vi[k] == _dict("en")[k] and not k.startswith("metric.")]
    assert len(same) <= 4, same


def test_every_key_the_page_uses_exists_and_every_key_is_used() -> None:
    keys = set(_dict("en"))
    namespaces = {k.split(".")[0] for k in keys}
    used = _used_keys(namespaces)
    missing = {k for k in used if k not in keys and not any(k + f in keys for f in PLURAL_FORMS)}
    assert not missing, f"keys used by the page but not translated: {sorted(missing)}"
    # metric.* label whatever names a model's metrics carry; plural forms hang off a base key.
    unused = {
        k
        for k in keys
        if k not in used
        and not k.startswith("metric.")
        and not any(k.endswith(f) and k.removesuffix(f) in used for f in PLURAL_FORMS)
    }
    assert not unused, f"translated but never used: {sorted(unused)}"


def test_nothing_is_loaded_from_the_internet() -> None:
    allowed = {"http://www.w3.org/2000/svg"}  # an XML namespace name, never fetched
    for path in [*STATIC.rglob("*.*")]:
        if path.suffix not in {".html", ".js", ".css", ".svg", ".json"}:
            continue
        text = path.read_text(encoding="utf-8")
        urls = set(re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s'\"<>)]*", text)) - allowed
        assert not urls, f"{path.name} refers to {urls}"
        assert "@import" not in text


@pytest.fixture
def console_only() -> TestClient:
    app = FastAPI()
    app.include_router(console.router)
    return TestClient(app)


def test_page_and_static_files_are_served_with_headers(console_only: TestClient) -> None:
    page = console_only.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/static/js/app.js">' in page.text

    script = console_only.get("/static/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache"  # same names every release: revalidate
    etag = script.headers["etag"]
    assert console_only.get("/static/js/app.js", headers={"If-None-Match": etag}).status_code == 304
    assert console_only.get("/static/i18n/vi.json").json()["nav.queue"] == "Hàng đợi"

    assert console_only.get("/static/nope.js").status_code == 404
    assert console_only.get("/static/../api/routes/console.py").status_code == 404
    assert console_only.get("/static/%2e%2e/api/routes/console.py").status_code == 404
    moved = console_only.get("/console", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/"


def test_the_service_serves_the_console(app_client) -> None:
    page = app_client.get("/")
    assert page.status_code == 200 and "counterscan" in page.text
    assert app_client.get("/static/styles.css").status_code == 200
