"""RFC 5545 calendar files for bookings (iTIP METHOD:REQUEST to book or move, METHOD:CANCEL to cancel).

The UID is derived from the booking id, which survives a reschedule, so calendar clients update the
event they already have; SEQUENCE goes up with every change. Times are UTC (`...Z`), lines end in CRLF,
TEXT values are escaped and lines longer than 75 octets are folded without splitting a UTF-8 character.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from foureyes.errors import BadRequest

PRODID = "-//Foureyes//Interview scheduling//EN"
UID_DOMAIN = "foureyes"
MAX_OCTETS = 75
METHODS = ("REQUEST", "CANCEL")


def uid_for(booking_id: str) -> str:
    return f"{booking_id}@{UID_DOMAIN}"


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise BadRequest("calendar times must carry a time zone")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded to at most 75 octets per physical line (continuations start with a space)."""
    if len(line.encode()) <= MAX_OCTETS:
        return line
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, MAX_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, MAX_OCTETS - 1  # the leading space takes one octet
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def unfold(data: bytes | str) -> list[str]:
    """The logical content lines of a calendar file (for tests and for reading one back)."""
    text = data.decode() if isinstance(data, bytes) else data
    return [line for line in text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n") if line]


@dataclass(frozen=True, slots=True)
class IcsEvent:
    booking_id: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    organizer: str  # the sender address (an iTIP REQUEST needs an ORGANIZER)
    attendee: str = ""  # the candidate's address: it goes into their own copy only, never into logs
    description: str = ""
    location: str = ""
    url: str = ""


def booking_ics(event: IcsEvent, method: str, *, dtstamp: datetime) -> bytes:
    """The .ics file for `event`: METHOD:REQUEST for a booking or a move, METHOD:CANCEL for a cancellation."""
    if method not in METHODS:
        raise BadRequest(f"method must be one of {METHODS}")
    if event.end <= event.start:
        raise BadRequest("an event must end after it starts")
    if event.sequence < 0:
        raise BadRequest("SEQUENCE must not be negative")
    lines: list[str] = [
        "BEGIN:VCALENDAR", f"PRODID:{PRODID}", "VERSION:2.0", "CALSCALE:GREGORIAN", f"METHOD:{method}",
        "BEGIN:VEVENT", f"UID:{uid_for(event.booking_id)}", f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{_utc(dtstamp)}", f"DTSTART:{_utc(event.start)}", f"DTEND:{_utc(event.end)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    lines.append(f"ORGANIZER;CN=Foureyes:mailto:{event.organizer}")
    if event.attendee:
        lines.append(f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:{event.attendee}")
    if method == "CANCEL":
        lines += ["STATUS:CANCELLED", "TRANSP:TRANSPARENT"]
    else:
        lines += ["STATUS:CONFIRMED", "TRANSP:OPAQUE", "BEGIN:VALARM", "ACTION:DISPLAY",
                  "DESCRIPTION:Interview reminder", "TRIGGER:-PT1H", "END:VALARM"]
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()


def attachment_name(method: str) -> str:
    return "cancel.ics" if method == "CANCEL" else "invite.ics"


def content_type(method: str) -> str:
    return f"text/calendar; method={method}; charset=UTF-8"


def lines_named(data: bytes | str, name: str) -> Sequence[str]:
    """The values of every content line called `name` (parameters dropped)."""
    out: list[str] = []
    for line in unfold(data):
        head, _, value = line.partition(":")
        if head.split(";", 1)[0] == name:
            out.append(value)
    return out
