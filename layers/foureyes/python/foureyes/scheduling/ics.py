"""RFC 5545 calendar files for bookings (iTIP METHOD:REQUEST to book or move, METHOD:CANCEL to cancel).

The UID is derived from the booking id, which survives a reschedule, so calendar clients update the
event they already have; SEQUENCE goes up with every change. Times are UTC (`...Z`). The file is written by
`icalendar` (CRLF, TEXT escaping, folding at 75 octets); `escape_text`, `fold`, `unfold` and `lines_named` remain
for reading one back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

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
    organizer_name: str = ""  # the company the candidate deals with (CN of the ORGANIZER)
    reminder: str = ""  # the alarm's text


def booking_ics(event: IcsEvent, method: str, *, dtstamp: datetime) -> bytes:
    """The .ics file for `event`: METHOD:REQUEST for a booking or a move, METHOD:CANCEL for a cancellation.

    Built with `icalendar` (escaping, folding at 75 octets, CRLF); times in UTC."""
    if method not in METHODS:
        raise BadRequest(f"method must be one of {METHODS}")
    if event.end <= event.start:
        raise BadRequest("an event must end after it starts")
    if event.sequence < 0:
        raise BadRequest("SEQUENCE must not be negative")
    for moment in (event.start, event.end, dtstamp):
        _utc(moment)  # refuses naive times
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    item = Event()
    item.add("uid", uid_for(event.booking_id))
    item.add("sequence", event.sequence)
    item.add("dtstamp", dtstamp.astimezone(UTC))
    item.add("dtstart", event.start.astimezone(UTC))
    item.add("dtend", event.end.astimezone(UTC))
    item.add("summary", event.summary)
    if event.description:
        item.add("description", event.description)
    if event.location:
        item.add("location", event.location)
    if event.url:
        item.add("url", event.url, parameters={"VALUE": "URI"})
    organizer = vCalAddress(f"mailto:{event.organizer}")
    organizer.params["CN"] = vText(event.organizer_name or "Foureyes")
    item["organizer"] = organizer
    if event.attendee:
        attendee = vCalAddress(f"mailto:{event.attendee}")
        attendee.params.update({"ROLE": vText("REQ-PARTICIPANT"), "PARTSTAT": vText("ACCEPTED"),
                                "RSVP": vText("FALSE")})
        item.add("attendee", attendee, encode=False)
    if method == "CANCEL":
        item.add("status", "CANCELLED")
        item.add("transp", "TRANSPARENT")
    else:
        item.add("status", "CONFIRMED")
        item.add("transp", "OPAQUE")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event.reminder or "Interview reminder")
        alarm.add("trigger", timedelta(hours=-1))
        item.add_component(alarm)
    calendar.add_component(item)
    return bytes(calendar.to_ical())


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
