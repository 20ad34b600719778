"""Alert delivery to a webhook, through an outbox: every alert gets an `alert_outbox` row in
the transaction that raises it, so a receiver that is down, or a server restart, loses none.

Each alert is POSTed as JSON (the object of GET /v1/alerts) with
`X-Counterscan-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed with
COUNTERSCAN_ALERT_WEBHOOK_SECRET, until the receiver answers 2xx; after a failure the next try
waits 2^attempts seconds (at most `MAX_BACKOFF_S`). Several server processes may send the same
alert twice; receivers dedupe by `id`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from counterscan.serve.storage import Store
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.alerts import to_api

log = logging.getLogger("counterscan.serve.webhook")
MAX_BACKOFF_S = 300
BATCH = 50
SIGNATURE_HEADER = "X-Counterscan-Signature"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """Sends what is due in the outbox (`deliver_due`); `start()` runs it every second in a
    thread until `stop()`. `clock`: injectable for tests."""

    def __init__(
        self,
        store: Store,
        url: str,
        secret: str,
        *,
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.url, self.secret = store, url, secret
        self.timeout_s, self.clock = timeout_s, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def deliver_due(self) -> int:
        """Try every due alert once; returns how many were delivered."""
        now = self.clock()
        o = s.alert_outbox.c
        with self.store.read() as conn:
            due = conn.execute(
                select(s.alerts, o.attempts)
                .join(s.alert_outbox, o.alert_id == s.alerts.c.id)
                .where(o.delivered_at.is_(None), o.next_attempt_at <= now)
                .order_by(o.next_attempt_at, s.alerts.c.id)
                .limit(BATCH)
            ).all()
        delivered = 0
        for row in due:
            body = json.dumps(to_api(row), ensure_ascii=False, separators=(",", ":")).encode()
            error = self._post(body)
            with self.store.write() as conn:
                where = update(s.alert_outbox).where(o.alert_id == row.id)
                if error is None:
                    conn.execute(where.values(delivered_at=now, attempts=row.attempts + 1))
                    delivered += 1
                else:
                    wait = min(MAX_BACKOFF_S, 2**row.attempts)
                    conn.execute(
                        where.values(
                            attempts=row.attempts + 1,
                            next_attempt_at=now + timedelta(seconds=wait),
                            last_error=error[:512],
                        )
                    )
        return delivered

    def _post(self, body: bytes) -> str | None:
        """None when the receiver answered 2xx, else why not."""
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, self.secret)},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as e:
            status = e.code
        except (OSError, ValueError) as e:
            return f"{type(e).__name__}: {e}"
        return None if 200 <= status < 300 else f"HTTP {status}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 5)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.deliver_due()
            except Exception as e:  # the database down for a moment: try again next second
                log.warning("alert webhook: %s", e)
