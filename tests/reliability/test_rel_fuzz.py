"""API fuzzing with schemathesis against the service's own OpenAPI document (/openapi.json of a
real server process), with the admin key so every endpoint is reachable: no answer is a 5xx,
every status, content type and body matches what the document says.

The fast run keeps a few examples per operation (make test); the slow one explores far more
(make test-slow). Seeds are fixed (derandomize), so a failure reproduces.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

FAST_EXAMPLES = 15
SLOW_EXAMPLES = 300


def _openapi() -> dict[str, Any]:
    """The document the server publishes at /openapi.json (built without starting an app)."""
    from counterscan.serve.app import create_app
    from counterscan.serve.settings import Settings

    return create_app(Settings(model=None)).openapi()


DOCUMENT = _openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)


# Every check schemathesis has (no 5xx, documented status, content type, body and headers,
# auth not ignored, ...) except the two that judge the schema's strictness rather than the
# server: a schema-valid request may still be refused (an empty file is 422, a reload of a
# missing file is 422), and FastAPI leniently accepts e.g. `until=0.5` (a Unix time).
EXCLUDED = [positive_data_acceptance, negative_data_rejection]


def _check(case: Any, module_server: Any, rel_keys: dict[str, str]) -> None:
    headers = {"X-API-Key": rel_keys["admin"]}
    case.call_and_validate(
        base_url=module_server.url, headers=headers, excluded_checks=EXCLUDED, timeout=60
    )
    assert module_server.alive()


@schema.parametrize()
@settings(
    max_examples=FAST_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,  # write nothing outside tmp (no .hypothesis/ folder)
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz(case: Any, module_server: Any, rel_keys: dict[str, str]) -> None:
    _check(case, module_server, rel_keys)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=SLOW_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,  # write nothing outside tmp (no .hypothesis/ folder)
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz_long(case: Any, module_server: Any, rel_keys: dict[str, str]) -> None:
    _check(case, module_server, rel_keys)


def test_real_answers_match_the_document(
    module_server: Any, rel_keys: dict[str, str], hostile: Any
) -> None:
    """The fuzzer rarely sends a valid photo; this walks the real flow (score, repeat, batch,
    queue, item, verdict, images) and every error status, and checks each answer against the
    operation's entry in the document."""
    keys = {role: {"X-API-Key": key} for role, key in rel_keys.items()}
    photo = hostile.photo((160, 120), fmt="JPEG")
    with module_server.client() as http:

        def check(method: str, path: str, url: str | None = None, **kwargs: Any) -> Any:
            r = http.request(method, url or path, **kwargs)
            r.request.read()  # multipart requests stream; the validator reads them back
            schema[path][method].validate_response(r)  # the body, for a documented status
            assert str(r.status_code) in DOCUMENT["paths"][path][method.lower()]["responses"]
            return r

        scored = check(
            "POST", "/v1/score", headers=keys["crawler"],
            files={"image": ("a.jpg", photo)}, data={"heatmap": "1", "listing_id": "L1"},
        ).json()  # fmt: skip
        item = f"/v1/items/{scored['id']}"
        assert check(
            "POST", "/v1/score", headers=keys["crawler"], files={"image": ("a.jpg", photo)}
        ).json()["cached"]
        bad = hostile.CASES[0].make()
        files = [("images", ("a.jpg", photo)), ("images", ("b.jpg", bad))]
        check("POST", "/v1/score/batch", headers=keys["crawler"], files=files)
        for method, path, url, kwargs in [
            ("GET", "/v1/queue", None, {"params": {"status": "all"}}),
            ("POST", "/v1/items/{item_id}/verdict", f"{item}/verdict", {"json": {"verdict": "genuine"}}),
            ("GET", "/v1/items/{item_id}", item, {}),
            ("GET", "/v1/items/{item_id}/image", f"{item}/image", {}),
            ("GET", "/v1/items/{item_id}/thumbnail", f"{item}/thumbnail", {}),
            ("GET", "/v1/items/{item_id}/heatmap", f"{item}/heatmap", {}),
            ("GET", "/v1/model", None, {}),
        ]:  # fmt: skip
            assert check(method, path, url, headers=keys["inspector"], **kwargs).status_code == 200
        for path in ("/healthz", "/readyz", "/metrics"):
            check("GET", path)
        # Errors: no key, wrong role, unknown id, not an image, malformed, too many.
        assert check("GET", "/v1/queue").status_code == 401
        assert check("GET", "/v1/queue", headers=keys["crawler"]).status_code == 403
        missing = "/v1/items/" + "0" * 32
        assert (
            check("GET", "/v1/items/{item_id}", missing, headers=keys["admin"]).status_code == 404
        )
        assert (
            check(
                "POST", "/v1/score", headers=keys["crawler"], files={"image": ("x.jpg", b"<html>")}
            ).status_code
            == 415
        )
        assert (
            check("GET", "/v1/queue", params={"limit": 0}, headers=keys["admin"]).status_code == 422
        )
        big = hostile.png_header_only(100_000, 100_000)
        assert (
            check(
                "POST", "/v1/score", headers=keys["crawler"], files={"image": ("x.png", big)}
            ).status_code
            == 413
        )
