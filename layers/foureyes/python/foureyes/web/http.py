"""HTTP status codes for the typed errors (one mapping, used by every API handler)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from foureyes.errors import (
    BadRequest,
    Conflict,
    DispatchRefused,
    Forbidden,
    FoureyesError,
    LinkExpired,
    NotFound,
    Unauthorized,
)

_STATUS: tuple[tuple[type[FoureyesError], int], ...] = (
    (LinkExpired, 410),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (BadRequest, 400),
    (DispatchRefused, 409),
)


def status_for(error: FoureyesError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body exactly as sent (API Gateway base64-encodes what is not text)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("the body is not valid base64") from exc
    return str(body).encode("utf-8", "surrogateescape")
