"""One mapping from an error to an HTTP answer, for every API handler.

- The caller's fault (a typed 4xx error): its status and its message, which typed errors keep safe to show.
- A dependency or the set-up is unavailable (`Unavailable`: an ATS, the calendar, the HRIS, a missing setting):
  503 with `Retry-After`, so webhook senders and browsers try again instead of dropping the request.
- Anything else is a bug: 500, and not a word of the exception's text.

Titles and texts are English msgids (`N_`): the page that shows them translates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from foureyes.errors import (
    BadRequest,
    Conflict,
    DispatchRefused,
    Forbidden,
    FoureyesError,
    LinkExpired,
    NotFound,
    Unauthorized,
    Unavailable,
)
from foureyes.web.i18n import N_

RETRY_AFTER_SECONDS = 120
_STATUS: tuple[tuple[type[FoureyesError], int], ...] = (
    (LinkExpired, 410),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (BadRequest, 400),
    (DispatchRefused, 409),
    (Unavailable, 503),
)
_TITLES: tuple[tuple[int, str], ...] = (
    (410, N_("This link has expired")),
    (401, N_("This link is not valid")),
    (403, N_("Not available to you")),
    (404, N_("Not found")),
    (409, N_("That did not work")),
    (400, N_("Something is missing")),
    (503, N_("Temporarily unavailable")),
    (500, N_("Something went wrong")),
)
UNAVAILABLE_TEXT = N_("This service is temporarily unavailable. Nothing was lost; please try again in a few minutes.")
BUG_TEXT = N_("Something went wrong on our side. Nothing was changed; please try again later.")


def status_for(error: BaseException) -> int:
    """The HTTP status for `error`: 4xx for the caller's fault, 503 for unavailable, else 500."""
    if isinstance(error, FoureyesError):
        for kind, status in _STATUS:
            if isinstance(error, kind):
                return status
    return 500


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """What to tell the caller about an error: status, a short title, one plain sentence, extra headers."""

    status: int
    title: str
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)


def reply_for(error: BaseException, texts: Mapping[type[FoureyesError], tuple[str, str]] | None = None) -> ErrorReply:
    """The reply for `error`; `texts` lets a surface say a kind of error in its own words (title, text)."""
    status = status_for(error)
    title = dict(_TITLES).get(status, N_("Something went wrong"))
    if status == 503:
        return ErrorReply(status, title, UNAVAILABLE_TEXT, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    if status == 500:
        return ErrorReply(status, title, BUG_TEXT)
    for kind, (own_title, own_text) in (texts or {}).items():
        if isinstance(error, kind):
            return ErrorReply(status, own_title, own_text or str(error))
    return ErrorReply(status, title, str(error))
