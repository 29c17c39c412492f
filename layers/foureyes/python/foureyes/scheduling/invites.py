"""The candidate's calendar invitations: e-mails with an .ics file (REQUEST when booked or moved, CANCEL when
cancelled; one UID per booking, SEQUENCE rising with each change), how an interview's time reads in the
candidate's zone, and whether a candidate's address can be sent to at all (`deliverable`).

Every e-mail to a candidate is made by `to_candidate`, which adds the link to contest how their data is handled
(`review.contest`).
"""

from __future__ import annotations

import re

from foureyes.mail import Attachment, Email
from foureyes.model import parse_iso
from foureyes.review.contest import contest_url
from foureyes.scheduling import ics
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.links import manage_token
from foureyes.scheduling.repository import BookingRecord, RequestRecord, booked_slot
from foureyes.scheduling.slots import localise
from foureyes.scheduling.views import plan_location

# One plain address: a dot-atom local part (ASCII specials, or any non-ASCII letter) and a domain of at least two
# labels. No display names, comments, quoted parts, lists, whitespace or control characters: what a header
# needs to stay one header (a line break in an address is a header injection, never an address).
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010FFFF]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
                    r"\u0080-\U0010FFFF]+)*")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9\-\u0080-\U0010FFFF]{1,63}(?<!-)")


def deliverable(address: str) -> bool:
    """Whether `address` is one plain e-mail address an invitation can be sent to (never logged)."""
    if not isinstance(address, str) or not 3 <= len(address) <= 254 or address.count("@") != 1:
        return False
    if any(c.isspace() or ord(c) < 32 or 127 <= ord(c) < 160 for c in address):
        return False
    local, domain = address.split("@")
    labels = domain.split(".")
    return (len(local) <= 64 and _LOCAL.fullmatch(local) is not None and len(labels) >= 2
            and all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit())


def to_candidate(deps: Deps, candidate_ref: str, to: str, subject: str, text: str,
                 attachments: tuple[Attachment, ...] = ()) -> Email:
    """An e-mail to a candidate, with the link to contest how their data is handled at its foot."""
    if deps.contest_ttl_seconds > 0:
        url = contest_url(deps.base_url, deps.secret, candidate_ref, deps.contest_ttl_seconds,
                          now_ms=int(deps.clock().timestamp() * 1000))
        text = (f"{text.rstrip()}\n\n--\nYour data: Foureyes plans interviews and keeps candidate records correct for "
                "the recruitment agency that wrote to you. If these are not your records, your details are wrong, or "
                f"you object to how your data is used, tell us here:\n{url}\n")
    return Email(to=to, subject=subject, text=text, attachments=attachments)


def subject_of(request: RequestRecord | BookingRecord) -> str:
    """The calendar subject of an interview (no names: the role only)."""
    return f"Interview, role {request.role_id}"


def when(booking: BookingRecord, tz: str) -> str:
    """`Friday 27 March 2026, 09:00–10:00 (CET, UTC+01:00)`: the booked time as the candidate reads it."""
    shown = localise(booked_slot(booking), tz)
    return f"{shown.date_label}, {shown.time_label} ({shown.zone_label})"


def ics_email(deps: Deps, request: RequestRecord, booking: BookingRecord, method: str, subject: str,
              text: str, sequence: int) -> Email:
    """An e-mail to the candidate with the booking's invitation (`method` REQUEST or CANCEL) attached."""
    manage = manage_token(deps, request, booking.booking_id)
    event = ics.IcsEvent(booking.booking_id, sequence, parse_iso(booking.start), parse_iso(booking.end),
                         subject_of(booking), deps.sender, request.candidate_email,
                         description=f"Reschedule or cancel: {deps.base_url}/book/{manage}",
                         location=plan_location(deps, request) or ("Video call" if request.mode == "remote" else ""),
                         url=f"{deps.base_url}/book/{manage}")
    data = ics.booking_ics(event, method, dtstamp=deps.clock())
    return to_candidate(deps, request.candidate_ref, request.candidate_email, subject, text,
                        (Attachment(ics.attachment_name(method), "text/calendar", data),))
