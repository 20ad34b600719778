"""Alert delivery through the outbox: a receiver that answers 500 at first, then is stopped
and started again, and a server (store and sender) restarted midway: every alert arrives,
signed, none lost; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from counterscan.serve.sellers.webhook import WebhookSender
from counterscan.serve.storage import Store
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.alerts import raise_alert
from tests.helpers.webhook_receiver import Receiver

SECRET = "test-webhook-secret"


def _raise(store: Store, n: int, now: datetime) -> None:
    with store.write() as conn:
        raise_alert(
            conn, "surge", f"source:s{n}:day", now=now, source=f"s{n}", detail={"high_items": n}
        )


def test_every_alert_arrives_signed_once(db_url: str, data_dir: Path) -> None:
    t = [datetime(2026, 6, 1, tzinfo=UTC)]
    clock = lambda: t[0]  # noqa: E731
    receiver = Receiver(fail=3)
    url = f"http://127.0.0.1:{receiver.port}/hook"
    store = Store(db_url, data_dir).open()
    sender = WebhookSender(store, url, SECRET, timeout_s=2, clock=clock)
    for n in range(4):
        _raise(store, n, t[0])
    sender.deliver_due()  # 3 refused with 500, one delivered
    assert len(receiver.got) == 1
    receiver.stop()  # the receiver goes down; alerts keep coming
    for n in range(4, 6):
        _raise(store, n, t[0])
    t[0] += timedelta(seconds=10)
    assert sender.deliver_due() == 0  # connection refused: retried later
    store.close()  # the server restarts (the outbox is in the database)
    store = Store(db_url, data_dir).open()
    sender = WebhookSender(store, url, SECRET, timeout_s=2, clock=clock)
    before = receiver.got
    receiver = Receiver(port=receiver.port)  # back, on the same address
    for _ in range(5):
        t[0] += timedelta(seconds=MAX_WAIT)
        sender.deliver_due()
    receiver.stop()
    with store.read() as conn:
        ids = set(conn.execute(select(s.alerts.c.id)).scalars())
        undelivered = conn.execute(
            select(s.alert_outbox.c.alert_id).where(s.alert_outbox.c.delivered_at.is_(None))
        ).all()
    store.close()
    got = before + receiver.got
    bodies = [json.loads(body) for body, _ in got]
    assert len(ids) == 6 and undelivered == []
    assert {b["id"] for b in bodies} == ids and len(bodies) == 6
    for body, signature in got:
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(signature, want)
    assert {b["kind"] for b in bodies} == {"surge"}


MAX_WAIT = 301  # past the longest backoff


def test_the_served_app_delivers_its_alerts(make_client, make_image) -> None:
    receiver = Receiver(fail=1)
    client = make_client(
        alert_webhook_url=f"http://127.0.0.1:{receiver.port}/hook", alert_webhook_secret=SECRET
    )
    assert SECRET not in repr(client.app.state.settings)
    files = {"image": ("p.jpg", make_image(seed=3), "image/jpeg")}
    first = client.post("/v1/score", files=files, data={"listing_id": "A", "source": "x"}).json()
    client.post(f"/v1/items/{first['id']}/verdict", json={"verdict": "counterfeit"})
    files = {"image": ("p.jpg", make_image(seed=3), "image/jpeg")}
    client.post("/v1/score", files=files, data={"listing_id": "B", "source": "y"})
    (alert,) = client.get("/v1/alerts").json()["alerts"]
    deadline = time.monotonic() + 15  # one 500, then the retry after 1 s (backoff 2^0)
    while not receiver.got and time.monotonic() < deadline:
        time.sleep(0.2)
    receiver.stop()
    (body, signature), *_ = receiver.got
    sent = json.loads(body)
    assert sent == alert | {"acknowledged": sent["acknowledged"]}
    assert signature == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
