"""Signed, expiring tokens for links in e-mails (review pages, booking pages).

Format (compatible with existing Node signers): `base64url(JSON of the payload plus "exp" in epoch
milliseconds) + "." + base64url(HMAC-SHA256(secret, that first part))`, base64url without padding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from foureyes.errors import LinkExpired, Unauthorized

MAX_TOKEN_LENGTH = 2048


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _now_ms() -> int:
    return int(time.time() * 1000)


def sign(payload: Mapping[str, Any], secret: bytes, ttl_seconds: int, *, now_ms: int | None = None) -> str:
    body = dict(payload)
    body["exp"] = (now_ms if now_ms is not None else _now_ms()) + ttl_seconds * 1000
    first = _b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret, first.encode("ascii"), hashlib.sha256).digest()
    return f"{first}.{_b64encode(mac)}"


def verify(token: str, secret: bytes, *, now_ms: int | None = None) -> dict[str, Any]:
    """The payload of a genuine, unexpired token; `Unauthorized` or `LinkExpired` otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise Unauthorized("the link is malformed")
    first, signature = token.split(".")
    expected = hmac.new(secret, first.encode("ascii", "replace"), hashlib.sha256).digest()
    try:
        given = _b64decode(signature)
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized("the link is malformed") from exc
    if not hmac.compare_digest(expected, given):
        raise Unauthorized("the link's signature does not match")
    try:
        payload = json.loads(_b64decode(first))
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized("the link is malformed") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise Unauthorized("the link is malformed")
    if payload["exp"] <= (now_ms if now_ms is not None else _now_ms()):
        raise LinkExpired("the link has expired")
    return payload
