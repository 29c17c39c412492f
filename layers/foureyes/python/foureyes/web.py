"""HTTP status codes for the typed errors (one mapping, used by every API handler)."""

from __future__ import annotations

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
