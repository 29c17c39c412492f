"""Interview feedback: each interviewer gives theirs through their own link, and may correct it until the whole
panel has answered (then it is final: the reading links go out); who reads what is decided server-side by role
(`role_of`, `visible_feedback`), and every read, allowed or refused, is audited.

When the whole panel has answered, the role's hiring managers and recruiters get a personal reading link,
where a person records the outcome (`outcome`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from foureyes.errors import BadRequest, Conflict, Forbidden
from foureyes.model import parse_iso
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.links import FEEDBACK, READ, audited_claims, feedback_read_url
from foureyes.scheduling.notes import summarise_notes
from foureyes.scheduling.repository import BookingRecord, FeedbackRecord
from foureyes.scheduling.settings import RolePlan

RECOMMENDATIONS = ("strong_yes", "yes", "no", "strong_no")


class Role(StrEnum):
    INTERVIEWER = "interviewer"
    HIRING_MANAGER = "hiring_manager"
    RECRUITER = "recruiter"
    CANDIDATE = "candidate"


@dataclass(frozen=True, slots=True)
class FeedbackEntry:
    interviewer_id: str
    recommendation: str
    rating: int | None
    notes: str
    submitted_at: str
    corrected: bool = False  # this submission replaced the interviewer's earlier entry


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    expected: int
    received: int
    recommendations: Mapping[str, int]
    average_rating: float | None


@dataclass(frozen=True, slots=True)
class FeedbackView:
    role: Role
    booking_id: str
    entries: tuple[FeedbackEntry, ...] = ()
    summary: FeedbackSummary | None = None
    suggested_summary: tuple[str, ...] = ()  # extractive, from the notes: a suggestion to read, not a verdict


def _entry(item: FeedbackRecord) -> FeedbackEntry:
    return FeedbackEntry(item.interviewer_id, item.recommendation, int(item.rating) if item.rating is not None
                         else None, item.notes, item.submitted_at)


def role_of(person_id: str, booking: BookingRecord, plan: RolePlan | None) -> Role | None:
    """The role a person has for this booking, decided server-side from configuration and the booking
    (never from anything the caller claims). Precedence: hiring manager, interviewer, recruiter."""
    if person_id == booking.candidate_ref:
        return Role.CANDIDATE
    if plan is not None and person_id in plan.hiring_managers:
        return Role.HIRING_MANAGER
    if person_id in booking.interviewers:
        return Role.INTERVIEWER
    if plan is not None and person_id in plan.recruiters:
        return Role.RECRUITER
    return None


def visible_feedback(role: Role, person_id: str, booking_id: str, panel: Sequence[str],
                     entries: Sequence[FeedbackEntry]) -> FeedbackView:
    """Exactly what `role` may read: an interviewer their own entry, the hiring manager the panel's entries
    (with a suggested extractive summary), a recruiter a summary without notes, a candidate nothing."""
    if role is Role.CANDIDATE:
        raise Forbidden("candidates never see internal interview feedback")
    if role is Role.INTERVIEWER:
        return FeedbackView(role, booking_id, tuple(e for e in entries if e.interviewer_id == person_id))
    panel_entries = tuple(e for e in entries if e.interviewer_id in set(panel))
    if role is Role.HIRING_MANAGER:
        return FeedbackView(role, booking_id, panel_entries, _summary(panel, panel_entries),
                            summarise_notes([e.notes for e in panel_entries]))
    return FeedbackView(role, booking_id, (), _summary(panel, panel_entries))


def _summary(panel: Sequence[str], entries: Sequence[FeedbackEntry]) -> FeedbackSummary:
    ratings = [e.rating for e in entries if e.rating is not None]
    return FeedbackSummary(len(panel), len(entries), dict(Counter(e.recommendation for e in entries)),
                           round(sum(ratings) / len(ratings), 2) if ratings else None)


def read_feedback(person_id: str, booking_id: str, deps: Deps) -> FeedbackView:
    """Role-checked read of a booking's feedback; every read, allowed or refused, is in the audit trail."""
    booking = deps.store.get_booking(booking_id)
    plan = deps.settings.roles.get(booking.role_id)
    role = role_of(person_id, booking, plan)
    if role is None or role is Role.CANDIDATE:
        deps.audit("feedback.read_denied", person_id, booking_id, {"role": role.value if role else "none"})
        raise Forbidden("you may not read this interview's feedback")
    entries = [_entry(i) for i in deps.store.feedback(booking_id)]
    shown = visible_feedback(role, person_id, booking_id, tuple(booking.interviewers), entries)
    deps.audit("feedback.read", person_id, booking_id,
               {"role": role.value, "entries": [e.interviewer_id for e in shown.entries],
                "summary": shown.summary is not None})
    return shown


def read_feedback_by_link(token: str, deps: Deps) -> FeedbackView:
    """GET /feedback-read/{token}: `read_feedback` for the link's person; a refused link is audited too."""
    claims = audited_claims(deps, token, READ, "feedback.read_denied")
    return read_feedback(str(claims.get("p", "")), str(claims.get("b", "")), deps)


@dataclass(frozen=True, slots=True)
class FeedbackForm:
    booking_id: str
    interviewer_id: str
    role_id: str
    when: str
    submitted: FeedbackEntry | None
    start: str = ""  # ISO instants of the interview (pages show them in the reader's zone and language)
    end: str = ""
    interviewers: tuple[str, ...] = ()
    complete: bool = False  # the whole panel has answered: feedback is final
    candidate_ref: str = ""

    @property
    def editable(self) -> bool:
        return not self.complete


def _feedback_claims(token: str, deps: Deps, denied_event: str) -> tuple[str, BookingRecord]:
    """The interviewer of a feedback link and their booking; a refusal (an expired link, another page's link,
    an interviewer no longer on the panel) is audited as `denied_event` with the ids."""
    claims = audited_claims(deps, token, FEEDBACK, denied_event)
    booking = deps.store.get_booking(str(claims.get("b", "")))
    interviewer = str(claims.get("i", ""))
    if interviewer not in booking.interviewers:
        deps.audit(denied_event, interviewer or "unknown", booking.booking_id,
                   {"role": "none", "reason": "not_on_panel", "link": FEEDBACK})
        raise Forbidden("you are not on this interview's panel")
    return interviewer, booking


def feedback_form(token: str, deps: Deps) -> FeedbackForm:
    """GET /feedback/{token}: the interviewer's own form (and their own entry once given); audited."""
    interviewer, booking = _feedback_claims(token, deps, "feedback.read_denied")
    entries = list(deps.store.feedback(booking.booking_id))
    own = next((_entry(i) for i in entries if i.interviewer_id == interviewer), None)
    deps.audit("feedback.form_viewed", interviewer, booking.booking_id, {"submitted": own is not None})
    return FeedbackForm(booking.booking_id, interviewer, booking.role_id,
                        f"{booking.start[:16].replace('T', ' ')} UTC", own, booking.start, booking.end,
                        tuple(booking.interviewers), _complete(booking, entries), booking.candidate_ref)


def _complete(booking: BookingRecord, entries: Sequence[FeedbackRecord]) -> bool:
    return set(booking.interviewers) <= {i.interviewer_id for i in entries}


PANEL_COMPLETE = "the whole panel has given its feedback, so it is final and can no longer be changed"


def submit_feedback(token: str, recommendation: str, rating: int | None, notes: str, deps: Deps) -> FeedbackEntry:
    """POST /feedback/{token}: one interviewer's feedback, after the interview started; a second one corrects the
    first until the whole panel has answered (then `Conflict`: it is final)."""
    interviewer, booking = _feedback_claims(token, deps, "feedback.submit_denied")
    if recommendation not in RECOMMENDATIONS:
        raise BadRequest("choose a recommendation")
    if rating is not None and not 1 <= rating <= 5:
        raise BadRequest("the rating is from 1 to 5")
    if len(notes) > 10_000:
        raise BadRequest("the notes are too long (10,000 characters at most)")
    now = deps.clock()
    if now < parse_iso(booking.start):
        raise Conflict("feedback opens when the interview starts")
    entries = list(deps.store.feedback(booking.booking_id))
    own = next((i for i in entries if i.interviewer_id == interviewer), None)
    if own is not None and _complete(booking, entries):
        raise Conflict(PANEL_COMPLETE)
    # A correction replaces exactly the entry read here (a concurrent correction makes this one a Conflict).
    item = deps.store.put_feedback(booking.booking_id, interviewer, request_id=booking.request_id,
                                   role_id=booking.role_id, recommendation=recommendation, rating=rating,
                                   notes=notes.strip(), now=now, replaces=own.submitted_at if own else None)
    deps.audit("feedback.corrected" if own else "feedback.submitted", interviewer, booking.booking_id,
               {"recommendation": recommendation})
    if own is None and _complete(booking, deps.store.feedback(booking.booking_id)):
        _feedback_complete(booking, deps)
    return replace(_entry(item), corrected=own is not None)


def _feedback_complete(booking: BookingRecord, deps: Deps) -> None:
    """Every interviewer has answered: each hiring manager and recruiter gets their own reading link,
    where they (a person, never the system) record the outcome."""
    plan = deps.settings.roles.get(booking.role_id)
    if plan is None:
        return
    for person in (*plan.hiring_managers, *plan.recruiters):
        address = deps.settings.interviewer_emails.get(person)
        if not address:
            continue
        from foureyes.scheduling.feedback_pages import complete_email  # the pages' words (templates)

        deps.send(complete_email(booking.booking_id, address, feedback_read_url(deps, person, booking.booking_id),
                                 deps))
    deps.audit("feedback.complete", "system", booking.booking_id, {"notified": len(plan.hiring_managers)})
