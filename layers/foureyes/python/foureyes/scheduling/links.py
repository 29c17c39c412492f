"""The signed links scheduling sends: booking (a request), manage (a booking: reschedule or cancel),
feedback (an interviewer's form) and read (a staff member's view of a booking's feedback).

Each token names its kind (`k`), so a link only opens the page it was made for; they expire a while after
what they are about (the booking window, the interview).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from foureyes.errors import LinkExpired, Unauthorized
from foureyes.links import sign, verify
from foureyes.model import parse_iso
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.repository import BookingRecord, RequestRecord

BOOK, MANAGE, FEEDBACK, READ = "book", "manage", "feedback", "read"


def ms(moment: datetime) -> int:
    """Epoch milliseconds."""
    return int(moment.timestamp() * 1000)


def _sign(deps: Deps, claims: Mapping[str, Any], until: datetime) -> str:
    now = deps.clock()
    ttl = max(60, int((until - now).total_seconds()))
    return sign(claims, deps.secret, ttl, now_ms=ms(now))


def claims_of(deps: Deps, token: str, kinds: Iterable[str]) -> dict[str, Any]:
    """The claims of a genuine, unexpired token of one of `kinds`; `Unauthorized` / `LinkExpired` otherwise."""
    claims = verify(token, deps.secret, now_ms=ms(deps.clock()))
    if claims.get("k") not in set(kinds):
        raise Unauthorized("this link is not meant for this page")
    return claims


def genuine_claims(deps: Deps, token: str) -> dict[str, Any] | None:
    """The claims of a token signed with our secret, expired or not; None for a forged or malformed one.

    Only to name, in the audit trail, whom a refused link belonged to: never to grant anything.
    """
    try:
        return verify(token, deps.secret, now_ms=0)  # every genuine token expires after the epoch
    except Unauthorized:
        return None


def audited_claims(deps: Deps, token: str, kind: str, denied_event: str) -> dict[str, Any]:
    """`claims_of` for one kind of staff link, with every refusal of a genuine link (expired, or made for
    another page) recorded as `denied_event` with its ids, as granted reads are. A forged or malformed token
    names nobody and is refused without an audit row (anyone could write those by the million)."""
    try:
        return claims_of(deps, token, (kind,))
    except Unauthorized as exc:
        claims = genuine_claims(deps, token)
        if claims is not None:
            deps.audit(denied_event, str(claims.get("p") or claims.get("i") or "unknown"),
                       str(claims.get("b") or claims.get("r") or ""),
                       {"role": "none", "reason": "expired" if isinstance(exc, LinkExpired) else "wrong_link",
                        "link": str(claims.get("k", ""))})
        raise


def booking_url(deps: Deps, request: RequestRecord) -> str:
    until = parse_iso(request.window_end)
    return f"{deps.base_url}/book/{_sign(deps, {'k': BOOK, 'r': request.request_id}, until)}"


def manage_token(deps: Deps, request: RequestRecord, booking_id: str) -> str:
    """The reschedule/cancel link's token: it names the booking (not the slot), so it survives a reschedule, and
    it is the same every time it is made (its expiry is fixed by the request's window), so the e-mail, the page
    and the .ics carry one link for one booking."""
    until = parse_iso(request.window_end) + timedelta(days=deps.settings.link_days_after_window)
    return sign({"k": MANAGE, "b": booking_id}, deps.secret, 0, now_ms=ms(until))


def feedback_url(deps: Deps, booking: BookingRecord, interviewer: str) -> str:
    until = parse_iso(booking.end) + timedelta(days=14)
    return f"{deps.base_url}/feedback/{_sign(deps, {'k': FEEDBACK, 'b': booking.booking_id, 'i': interviewer}, until)}"


def feedback_read_url(deps: Deps, person_id: str, booking_id: str, days: int = 14) -> str:
    """A staff member's personal link to read a booking's feedback (what they see is decided on reading)."""
    until = deps.clock() + timedelta(days=days)
    return f"{deps.base_url}/feedback-read/{_sign(deps, {'k': READ, 'b': booking_id, 'p': person_id}, until)}"
