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
from foureyes.scheduling.settings import RoleAbout, Settings
from foureyes.scheduling.slots import localise
from foureyes.scheduling.views import plan_location
from foureyes.web.i18n import Language
from foureyes.web.templating import Brand, render_email, when_text

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
                 attachments: tuple[Attachment, ...] = (), *, about: RoleAbout | None = None, when_shown: str = "",
                 language: str = "", tz: str = "") -> Email:
    """An e-mail to a candidate (plain text and HTML, `templates/email/candidate.*`): the message, what the
    interview is (`about`: role, company, panel, place, recruiter), and the link to contest how their data is
    handled at its foot; branded with the role's company and recruiter."""
    url = ""
    if deps.contest_ttl_seconds > 0:
        url = contest_url(deps.base_url, deps.secret, candidate_ref, deps.contest_ttl_seconds,
                          now_ms=int(deps.clock().timestamp() * 1000))
    return render_email("candidate", Language.of(language or None), to=to, brand=brand_of(about), tz=tz or None,
                        attachments=attachments, subject=subject, lines=text.rstrip().split("\n"), about=about,
                        when=when_shown, contest_url=url)


def brand_of(about: RoleAbout | None) -> Brand:
    """The role's company and logo, its recruiter as the contact (else the configured defaults)."""
    default = Brand.from_env()
    if about is None:
        return default
    recruiter = about.recruiter
    return Brand(about.company or default.company, about.logo_url or default.logo_url,
                 recruiter.name if recruiter and recruiter.email else default.contact_name,
                 recruiter.email if recruiter and recruiter.email else default.contact_email)


def subject_of(request: RequestRecord | BookingRecord, settings: Settings | None = None) -> str:
    """The calendar subject of an interview (no names: the role's title, else its id)."""
    title = settings.about(request.role_id).title if settings is not None else request.role_id
    return f"Interview, {title}" if title != request.role_id else f"Interview, role {request.role_id}"


def when(booking: BookingRecord, tz: str) -> str:
    """`Friday 27 March 2026, 09:00–10:00 (CET, UTC+01:00)`: the booked time as the candidate reads it."""
    shown = localise(booked_slot(booking), tz)
    return f"{shown.date_label}, {shown.time_label} ({shown.zone_label})"


def ics_email(deps: Deps, request: RequestRecord, booking: BookingRecord, method: str, subject: str,
              text: str, sequence: int, language: str = "") -> Email:
    """An e-mail to the candidate with the booking's invitation (`method` REQUEST or CANCEL) attached; the
    invitation says what the interview is and carries the booking's one manage link."""
    manage = f"{deps.base_url}/book/{manage_token(deps, request, booking.booking_id)}"
    about = deps.settings.about(request.role_id, tuple(booking.interviewers))
    chosen = Language.of(language or None)
    start, end = parse_iso(booking.start), parse_iso(booking.end)
    panel = ", ".join(f"{p.name} ({p.title})" if p.title else p.name for p in about.panel)
    headline = chosen.gettext("Interview for %(title)s at %(company)s") % {"title": about.title,
                                                                         "company": about.company}
    description = "\n".join(line for line in (
        headline,
        f"{chosen.gettext('With:')} {panel}" if panel else "",
        f"{chosen.gettext('Video call:')} {about.video_link}" if about.video_link else "",
        f"{chosen.gettext('Your recruiter:')} {about.recruiter.name} {about.recruiter.email}".rstrip()
        if about.recruiter else "",
        f"{chosen.gettext('Reschedule or cancel:')} {manage}") if line)
    location = about.location if about.mode == "onsite" else (about.video_link or chosen.gettext("Video call"))
    summary = headline if about.company else subject_of(booking, deps.settings)
    event = ics.IcsEvent(booking.booking_id, sequence, start, end, summary, deps.sender, request.candidate_email,
                         description=description, location=plan_location(deps, request) or location, url=manage,
                         organizer_name=about.company, reminder=summary)
    data = ics.booking_ics(event, method, dtstamp=deps.clock())
    return to_candidate(deps, request.candidate_ref, request.candidate_email, subject, text,
                        (Attachment(ics.attachment_name(method), "text/calendar", data),), about=about,
                        when_shown=when_text(start, end, request.candidate_tz, chosen), language=chosen.code,
                        tz=request.candidate_tz)
