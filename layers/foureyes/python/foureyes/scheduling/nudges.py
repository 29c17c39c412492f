"""Reminders and nudges: which are due (a pure decision, `due_messages`), then sending them (`send_due`).

Bounded nudges to candidates who have not booked, one reminder before each interview, one feedback nudge
to interviewers who have not given feedback afterwards. Each message is claimed by a conditional write
before it is sent, so concurrent or repeated timer runs send it once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from foureyes.errors import FoureyesError
from foureyes.model import parse_iso
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.invites import to_candidate
from foureyes.scheduling.links import booking_url, feedback_url, manage_token
from foureyes.scheduling.repository import BookingRecord, RequestRecord
from foureyes.scheduling.settings import NudgePolicy
from foureyes.web.i18n import Language
from foureyes.web.templating import when_text

log = logging.getLogger(__name__)


class DueKind(StrEnum):
    CANDIDATE_NUDGE = "candidate_nudge"
    REMINDER = "reminder"
    FEEDBACK_NUDGE = "feedback_nudge"


@dataclass(frozen=True, slots=True)
class RequestState:
    request_id: str
    status: str
    created_at: datetime
    nudges_sent: int
    window_end: datetime


@dataclass(frozen=True, slots=True)
class BookingState:
    booking_id: str
    status: str
    start: datetime
    end: datetime
    sequence: int
    interviewers: tuple[str, ...]
    reminded: bool = False
    feedback_nudged: bool = False
    feedback_from: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Due:
    kind: DueKind
    subject_id: str  # request id (nudges) or booking id
    recipients: tuple[str, ...] = ()  # interviewer ids for feedback nudges; the candidate otherwise
    count: int = 0  # which nudge this is (1-based) / the booking's sequence


def due_messages(now: datetime, requests: Iterable[RequestState], bookings: Iterable[BookingState],
                 policy: NudgePolicy) -> list[Due]:
    """Which messages are due at `now`: bounded nudges to candidates who have not booked, one reminder before
    each interview, one feedback nudge to interviewers who have not given feedback afterwards."""
    due: list[Due] = []
    for r in requests:
        if r.status != "open" or r.nudges_sent >= policy.max_candidate_nudges or now >= r.window_end:
            continue
        at = r.created_at + timedelta(hours=policy.first_nudge_after_hours + r.nudges_sent * policy.nudge_every_hours)
        if now >= at:
            due.append(Due(DueKind.CANDIDATE_NUDGE, r.request_id, (), r.nudges_sent + 1))
    for b in bookings:
        if b.status != "confirmed":
            continue
        if not b.reminded and b.start - timedelta(hours=policy.reminder_before_hours) <= now < b.start:
            due.append(Due(DueKind.REMINDER, b.booking_id, (), b.sequence))
        missing = tuple(iv for iv in b.interviewers if iv not in b.feedback_from)
        if not b.feedback_nudged and missing and now >= b.end + timedelta(hours=policy.feedback_after_hours):
            due.append(Due(DueKind.FEEDBACK_NUDGE, b.booking_id, missing, b.sequence))
    return due


def _request_state(item: RequestRecord) -> RequestState:
    return RequestState(item.request_id, item.status, parse_iso(item.created_at), int(item.nudges_sent),
                        parse_iso(item.window_end))


def _booking_state(item: BookingRecord, feedback_from: Iterable[str]) -> BookingState:
    return BookingState(item.booking_id, item.status, parse_iso(item.start), parse_iso(item.end), int(item.sequence),
                        tuple(item.interviewers), bool(item.reminded), bool(item.feedback_nudged),
                        frozenset(feedback_from))


def send_due(deps: Deps) -> Counter[str]:
    """Send what `due_messages` says is due; each message is claimed by a conditional write first, so
    concurrent or repeated runs send it once."""
    now = deps.clock()
    policy = deps.settings.nudges
    requests = {r.request_id: r for r in deps.store.requests_with_status("open")}
    bookings = {b.booking_id: b for b in deps.store.bookings_with_status(
        "confirmed", now - timedelta(days=14), now + timedelta(hours=policy.reminder_before_hours + 1))}
    states = [_booking_state(b, (f.interviewer_id for f in deps.store.feedback(b.booking_id)))
              for b in bookings.values()]
    sent: Counter[str] = Counter()
    for due in due_messages(now, (_request_state(r) for r in requests.values()), states, policy):
        try:
            if _send_one(deps, due, requests, bookings, now):
                sent[due.kind.value] += 1
        except FoureyesError as exc:  # one bad request (e.g. a role no longer configured) stops nothing else
            log.warning("a due message was not sent", extra={"kind": due.kind.value, "subject": due.subject_id,
                                                             "error": type(exc).__name__})
            sent["errors"] += 1
    return sent


def _send_one(deps: Deps, due: Due, requests: Mapping[str, RequestRecord],
              bookings: Mapping[str, BookingRecord], now: datetime) -> bool:
    """Claim `due` (a conditional write), then send it; False when someone else claimed it first."""
    if due.kind is DueKind.CANDIDATE_NUDGE:
        request = requests[due.subject_id]
        template = deps.settings.approved(deps.settings.role(request.role_id).nudge_template)
        if not deps.store.claim_nudge(request.request_id, due.count - 1, now):
            return False
        language = Language.of(request.candidate_language or None).code
        subject, text = template.render({**deps.settings.message_values(request.role_id),
                                         "link": booking_url(deps, request), "role": request.role_id,
                                         "deadline": request.window_end[:10],
                                         "duration": str(int(request.duration_minutes))}, language)
        deps.send(to_candidate(deps, request.candidate_ref, request.candidate_email, subject, text,
                               about=deps.settings.about(request.role_id), tz=request.candidate_tz,
                               language=language))
        deps.audit("interview.nudged", "system", request.request_id, {"nudge": due.count})
        return True
    booking = bookings[due.subject_id]
    if due.kind is DueKind.REMINDER:
        request = deps.store.get_request(booking.request_id)
        template = deps.settings.approved(deps.settings.role(request.role_id).reminder_template)
        if not deps.store.claim_flag(booking.booking_id, "reminded", due.count):
            return False
        manage = manage_token(deps, request, booking.booking_id)
        language = Language.of(request.candidate_language or None).code
        shown = when_text(parse_iso(booking.start), parse_iso(booking.end), request.candidate_tz, language)
        subject, text = template.render({**deps.settings.message_values(request.role_id),
                                         "link": f"{deps.base_url}/book/{manage}", "role": request.role_id,
                                         "when": shown, "duration": str(int(request.duration_minutes))}, language)
        deps.send(to_candidate(deps, request.candidate_ref, request.candidate_email, subject, text,
                               about=deps.settings.about(request.role_id, tuple(booking.interviewers)),
                               when_shown=shown, tz=request.candidate_tz, language=language))
        deps.audit("interview.reminded", "system", booking.booking_id, {"sequence": due.count})
        return True
    if not deps.store.claim_flag(booking.booking_id, "feedback_nudged", due.count):
        return False
    for interviewer in due.recipients:
        address = deps.settings.interviewer_emails.get(interviewer)
        if not address:
            log.warning("no address for an interviewer", extra={"interviewer": interviewer})
            continue
        from foureyes.scheduling.feedback_pages import request_email  # the pages' words (templates)

        deps.send(request_email(booking.booking_id, address, feedback_url(deps, booking, interviewer), deps))
    deps.audit("feedback.nudged", "system", booking.booking_id, {"interviewers": list(due.recipients)})
    return True
