"""API keys and roles.

A request carries its key in `X-API-Key: <key>` or `Authorization: Bearer <key>`. Keys are
compared in constant time against every configured key (no early exit, so timing tells nothing
about which key or how much of it matched) and are never logged or echoed.

Roles: crawler (score), inspector (score, queue, verdicts, cases, evidence, reports), admin
(everything, reload).
With no keys configured every request is the local admin; `counterscan serve` then refuses to
listen beyond loopback (see `check_exposure`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request

from counterscan.errors import CounterscanError
from counterscan.serve.settings import ROLES, ApiKey, Settings, is_loopback


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name (e.g. an inspector's name) and its role."""

    name: str
    role: str

    def allowed(self, roles: tuple[str, ...]) -> bool:
        return self.role == "admin" or not roles or self.role in roles


LOCAL = Principal("local", "admin")


class KeyRing:
    """The configured keys, held as SHA-256 digests so comparisons have a fixed length."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self._entries = [(_digest(k.secret), Principal(k.name, k.role)) for k in keys]

    @property
    def enabled(self) -> bool:
        return bool(self._entries)

    def identify(self, presented: str) -> Principal | None:
        digest = _digest(presented)
        found: Principal | None = None
        for known, principal in self._entries:  # every entry, always: constant time
            if hmac.compare_digest(known, digest):
                found = principal
        return found


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def authenticate(request: Request, roles: tuple[str, ...]) -> Principal:
    """The caller's Principal, or HTTPException 401 (no/unknown key) / 403 (role not allowed)."""
    ring: KeyRing = request.app.state.keyring
    if not ring.enabled:
        return LOCAL
    key = presented_key(request)
    if key is None:
        raise HTTPException(
            401,
            "missing API key: send it as X-API-Key or Authorization: Bearer",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = ring.identify(key)
    if principal is None:
        raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    if not principal.allowed(roles):
        wanted = " or ".join(roles)
        raise HTTPException(403, f"role {principal.role} may not do this (needs {wanted})")
    return principal


def require_role(*roles: str) -> Any:  # a Depends marker, like FastAPI's Depends()
    """Dependency factory: `principal: Principal = require_role("inspector")`.

    Admin passes every check; `require_role()` with no role accepts any valid key.
    """
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(unknown)}")

    async def dependency(request: Request) -> Principal:  # async: no thread hand-over (deps.py)
        principal = authenticate(request, roles)
        request.state.principal = principal
        return principal

    # Read by the OpenAPI document (openapi.py) and the access tests: who may call a route.
    dependency.roles = roles  # type: ignore[attr-defined]
    return Depends(dependency)


def check_exposure(settings: Settings) -> None:
    """Refuse to listen beyond loopback with no keys: that would open the API to anyone."""
    if not settings.auth_enabled and not is_loopback(settings.host):
        raise CounterscanError(
            f"refusing to listen on {settings.host} without API keys; set COUNTERSCAN_API_KEYS "
            "(key:role:name,...) or listen on 127.0.0.1"
        )
