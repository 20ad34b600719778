"""Request body size limit, enforced before anything parses the body.

A pure ASGI middleware: a declared Content-Length over the limit is answered 413 at once without
reading a byte; otherwise the bytes are counted as they arrive (chunked uploads, lying clients)
and reading stops with 413 as soon as the count passes the limit. Nothing is buffered here, so
a client cannot make the server hold more than the limit in memory or on disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from inside `receive`; FastAPI re-raises HTTPExceptions met while parsing a body,
    so it reaches the app's exception handlers and becomes a 413 JSON answer."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than the limit of {limit} bytes")


def too_large_body(limit: int) -> bytes:
    return json.dumps({"detail": BodyTooLarge(limit).detail}).encode()


class BodyLimitMiddleware:
    """`limit_for(path)` gives the byte limit for a request path (e.g. a smaller one for
    single-image scoring than for batches)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_413(send, limit)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            # Raised outside FastAPI's handlers (e.g. by a middleware reading the body).
            if started:
                raise
            await _send_413(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_413(send: Send, limit: int) -> None:
    body = too_large_body(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
