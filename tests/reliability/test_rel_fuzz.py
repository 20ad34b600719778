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


def test_seller_and_alert_answers_match_the_document(
    module_server: Any, rel_keys: dict[str, str], hostile: Any
) -> None:
    """The fuzzer never names a stored seller or alert; this plants a counterfeit seller and
    its comeback under another id (the same photo and phone), then walks sellers, one seller,
    trends, alerts and an acknowledgement, checking each answer (and who may ask) against the
    document: inspectors and admins see sellers and alerts, crawlers get 403, no key 401."""
    keys = {role: {"X-API-Key": key} for role, key in rel_keys.items()}
    photo = hostile.photo((150, 110), fmt="JPEG")
    with module_server.client() as http:

        def check(method: str, path: str, url: str | None = None, **kwargs: Any) -> Any:
            r = http.request(method, url or path, **kwargs)
            r.request.read()  # multipart requests stream; the validator reads them back
            schema[path][method].validate_response(r)
            assert str(r.status_code) in DOCUMENT["paths"][path][method.lower()]["responses"]
            return r

        def score(**fields: str) -> dict[str, Any]:
            r = check(
                "POST", "/v1/score", headers=keys["crawler"],
                files={"image": ("a.jpg", photo)}, data=fields,
            )  # fmt: skip
            assert r.status_code == 200, r.text
            return r.json()

        first = score(source="fz-shop", seller_id="fz-fake", listing_id="FZ1", text="0912 345 679")
        r = check(
            "POST", "/v1/items/{item_id}/verdict", f"/v1/items/{first['id']}/verdict",
            headers=keys["inspector"], json={"verdict": "counterfeit"},
        )  # fmt: skip
        assert r.status_code == 200
        score(source="fz-tok", seller_id="fz-again", listing_id="FZ2", text="+84 912 345 679")

        one = "/v1/sellers/fz-tok/fz-again"
        for path, url, params in [
            ("/v1/sellers", None, {}),
            ("/v1/sellers", None, {"source": "fz-tok", "min_risk": 0.5, "limit": 1}),
            ("/v1/sellers/{source}/{seller_id}", one, {}),
            ("/v1/trends", None, {"days": 3}),
            ("/v1/alerts", None, {"acknowledged": "false"}),
        ]:
            r = check("GET", path, url, headers=keys["inspector"], params=params)
            assert r.status_code == 200, (path, r.text)
            for caller, status in (("crawler", 403), ("admin", 200)):
                headers = keys[caller]
                assert check("GET", path, url, headers=headers, params=params).status_code == status
            assert check("GET", path, url, params=params).status_code == 401
        detail = check("GET", "/v1/sellers/{source}/{seller_id}", one, headers=keys["admin"]).json()
        assert detail["linked"][0]["seller_id"] == "fz-fake"
        assert first["id"] in detail["listing_details"][0]["item_ids"]

        alerts = check("GET", "/v1/alerts", headers=keys["inspector"]).json()["alerts"]
        mine = [a for a in alerts if a["seller_id"] == "fz-again"]
        assert {a["kind"] for a in mine} == {"known_counterfeit", "linked_seller"}, alerts
        ack = "/v1/alerts/{alert_id}/ack"
        url = f"/v1/alerts/{mine[0]['id']}/ack"
        assert check("POST", ack, url, headers=keys["crawler"]).status_code == 403
        assert check("POST", ack, url).status_code == 401
        done = check("POST", ack, url, headers=keys["inspector"]).json()
        assert done["acknowledged"] is True and done["acknowledged_by"]
        # Errors: an unknown seller or alert, a window out of range.
        missing = "/v1/sellers/fz-tok/nobody"
        r = check("GET", "/v1/sellers/{source}/{seller_id}", missing, headers=keys["admin"])
        assert r.status_code == 404
        r = check("POST", ack, f"/v1/alerts/{'0' * 32}/ack", headers=keys["admin"])
        assert r.status_code == 404
        r = check("GET", "/v1/trends", headers=keys["admin"], params={"days": 0})
        assert r.status_code == 422
