"""The candidate's calendar invitations: e-mails with an .ics file (REQUEST when booked or moved, CANCEL when
cancelled; one UID per booking, SEQUENCE rising with each change), and how an interview's time reads in
the candidate's zone.
"""

from __future__ import annotations

from foureyes.mail import Attachment, Email
from foureyes.model import parse_iso
from foureyes.scheduling import ics
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.links import manage_token
from foureyes.scheduling.repository import BookingRecord, RequestRecord, booked_slot
from foureyes.scheduling.slots import localise
from foureyes.scheduling.views import plan_location


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
    return Email(to=request.candidate_email, subject=subject, text=text,
                 attachments=(Attachment(ics.attachment_name(method), "text/calendar", data),))
