"""Signed, expiring tokens for links in e-mails (review pages, booking pages).

Format (compatible with existing Node signers): `base64url(JSON of the payload plus "exp" in epoch
milliseconds) + "." + base64url(HMAC-SHA256(secret, that first part))`, base64url without padding.
Only the canonical spelling verifies: URL-safe alphabet, no padding, no stray characters, unused trailing
bits zero (what `sign` and Node's `base64url` write); anything else is `Unauthorized`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from foureyes.errors import LinkExpired, Unauthorized

MAX_TOKEN_LENGTH = 2048
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """The bytes of a canonical unpadded base64url text; `Unauthorized` for any other spelling of them."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise Unauthorized("the link is malformed")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized("the link is malformed") from exc
    if _b64encode(data) != text:  # e.g. unused trailing bits set: another spelling of the same bytes
        raise Unauthorized("the link is malformed")
    return data


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
    given = _b64decode(signature)
    if not hmac.compare_digest(expected, given):
        raise Unauthorized("the link's signature does not match")
    try:
        payload = json.loads(_b64decode(first))
    except ValueError as exc:
        raise Unauthorized("the link is malformed") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise Unauthorized("the link is malformed")
    if payload["exp"] <= (now_ms if now_ms is not None else _now_ms()):
        raise LinkExpired("the link has expired")
    return payload
