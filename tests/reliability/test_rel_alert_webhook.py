"""Alert delivery survives a crash: a real `counterscan serve` process posts its alerts to a
receiver that answers 500 at first and is stopped and started again, and the server is
SIGKILLed and restarted once; every alert arrives, signed, and no alert id is lost."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from tests.helpers.webhook_receiver import Receiver

SECRET = "rel-webhook-secret-5d1c"


def _post_pair(http: Any, photo: bytes, n: int) -> None:
    """A seller posts a photo with a phone number; it is confirmed counterfeit; a new seller
    elsewhere posts it again with the same number: known_counterfeit and linked_seller."""
    form = {"listing_id": f"A{n}", "source": "shopee", "seller_id": f"s{n}", "text": f"09123456{n:02d}"}  # fmt: skip
    first = http.post("/v1/score", files={"image": ("a.jpg", photo)}, data=form).json()
    r = http.post(f"/v1/items/{first['id']}/verdict", json={"verdict": "counterfeit"})
    assert r.status_code == 200, r.text
    again = form | {"listing_id": f"B{n}", "source": "tiktok", "seller_id": f"t{n}"}
    r = http.post("/v1/score", files={"image": ("a.jpg", photo)}, data=again)
    assert r.status_code == 200, r.text


def test_alerts_survive_a_failing_receiver_and_a_killed_server(
    start_server: Any, rel_keys: dict[str, str], hostile: Any, tmp_path: Any
) -> None:
    receiver = Receiver(fail=3)
    env = {
        "COUNTERSCAN_ALERT_WEBHOOK_URL": receiver.url,
        "COUNTERSCAN_ALERT_WEBHOOK_SECRET": SECRET,
    }
    where = {"db": f"sqlite:///{tmp_path / 'hook.db'}", "data_dir": tmp_path / "hook-store"}
    server = start_server(env=env, **where)
    with server.client(rel_keys["admin"]) as http:
        _post_pair(http, hostile.photo((90, 70), fmt="JPEG"), 1)
        deadline = time.monotonic() + 30  # three 500s, then a retry gets through
        while (receiver.fail or not receiver.got) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.fail == 0 and receiver.got
        receiver_port, before = receiver.port, receiver.got
        receiver.stop()  # down while more alerts come
        _post_pair(http, hostile.photo((70, 90), fmt="JPEG"), 2)
        time.sleep(1.5)  # the sender meets the closed port
    server.kill()  # SIGKILL: no shutdown code runs
    receiver = Receiver(port=receiver_port)
    server = start_server(env=env, **where)
    with server.client(rel_keys["admin"]) as http:
        ids = {a["id"] for a in http.get("/v1/alerts").json()["alerts"]}
        assert len(ids) == 4
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if {json.loads(b)["id"] for b, _ in before + receiver.got} >= ids:
                break
            time.sleep(0.5)
    receiver.stop()
    got = before + receiver.got
    assert {json.loads(body)["id"] for body, _ in got} == ids
    for body, signature in got:
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(signature, want)
