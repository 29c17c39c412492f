"""Cancelling, and letting go of holds: the candidate cancels from their link (until the interview starts; while
the booking window is open their request opens again, so they can choose a new time, and the role's recruiters
get an e-mail), a person cancels in the ATS (a cancellation stage), and holds nobody confirmed expire.

A cancellation frees the slot, the guard and the interviewers' blocks in one transaction, removes the
calendar events, sends the candidate a CANCEL invitation and hands a note for the ATS to `submit_fact` (when a
person cancelled here; a cancellation that came from the ATS writes nothing back into it).
"""

from __future__ import annotations

from collections.abc import Mapping

from foureyes.ats import registry
from foureyes.errors import Conflict
from foureyes.model import Action, Candidate, parse_iso
from foureyes.scheduling.booking import load, not_started
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.invites import ics_email
from foureyes.scheduling.links import ms
from foureyes.scheduling.panel_calendar import delete_events
from foureyes.scheduling.repository import BookingRecord, RequestRecord
from foureyes.scheduling.views import BookingView, PageKind, base_view
from foureyes.web.i18n import N_, Language
from foureyes.web.templating import render_email, when_text


def _cancel(deps: Deps, booking: BookingRecord, request: RequestRecord, by: str, reason: str, *,
            note_to_ats: bool = True, audit_details: Mapping[str, str] | None = None,
            language: str = "") -> BookingRecord:
    now = deps.clock()
    done = deps.store.cancel(booking.booking_id, by=by, reason=reason, now=now)
    released = deps.store.release_hold(request.request_id)
    delete_events(deps, dict(booking.events))
    if released is not None:
        delete_events(deps, released.events)
    said = Language.of(language or request.candidate_language or None)
    shown = when_text(parse_iso(booking.start), parse_iso(booking.end), request.candidate_tz, said)
    text = said.gettext("Your interview on %(when)s is cancelled.") % {"when": shown} + "\n"
    deps.send(ics_email(deps, request, done, "CANCEL", said.gettext(N_("Your interview is cancelled")), text,
                        int(done.sequence) + 1, said.code))
    if reason == "candidate":
        _tell_recruiters(deps, request, booking)
    note = (f"Foureyes: interview {booking.booking_id} for role {booking.role_id} at {booking.start} "
            f"was cancelled ({reason}); the slot is free again.")
    system, record_id = request.system, request.candidate_ref.split(":", 1)[1]
    if note_to_ats:  # a cancellation that came from the ATS is there already: nothing goes back without a person
        deps.submit_fact(system, record_id, Action.CREATE_NOTE,
                         registry.call_for(Action.CREATE_NOTE, Candidate(system, record_id), text=note), by)
    deps.audit("interview.cancelled", by, booking.booking_id,
               {"request": request.request_id, "slot": booking.slot_id, "reason": reason, **(audit_details or {})})
    deps.notify("interview.cancelled", {"booking": booking.booking_id, "request": request.request_id,
                                        "candidate": request.candidate_ref, "role": request.role_id})
    return done


def _tell_recruiters(deps: Deps, request: RequestRecord, booking: BookingRecord) -> None:
    """The role's recruiters learn by e-mail that the candidate cancelled (what the cancelled page promises)."""
    about = deps.settings.about(request.role_id)
    for address in deps.settings.recruiter_emails(request.role_id):
        deps.send(render_email("recruiter_cancelled", Language.of(), to=address, tz=request.candidate_tz,
                               about=about, candidate_ref=request.candidate_ref, booking_id=booking.booking_id,
                               start=parse_iso(booking.start), end=parse_iso(booking.end)))


def cancel_by_candidate(token: str, deps: Deps, language: str = "") -> BookingView:
    """POST action=cancel from the candidate's link (booking or manage link), until the interview starts."""
    _, request, booking = load(deps, token)
    if booking is None or booking.status != "confirmed":
        raise Conflict(N_("there is no booked interview to cancel"))
    not_started(deps, request, booking, "cancelled")
    _cancel(deps, booking, request, request.candidate_ref, "candidate", language=language)
    if deps.clock() < parse_iso(request.window_end):  # the window is open: the candidate may book a new time
        if deps.store.reopen_request(request.request_id, booking.booking_id,
                                     nudges_sent=deps.settings.nudges.max_candidate_nudges):
            deps.audit("interview.request_reopened", request.candidate_ref, request.request_id,
                       {"booking": booking.booking_id})
    return base_view(deps, request, token, PageKind.CANCELLED)


def cancel_from_ats(system: str, record_id: str, role_id: str, by: str, deps: Deps, *,
                    claimed_by: str = "") -> list[str]:
    """An ATS event (webhook or pull) says the interview is off: cancel this candidate's bookings for the role
    and close open requests locally (calendar, candidate e-mail, audit); returns the booking and request ids
    touched.

    `by` is the actor, the ATS itself (`ats:<system>`); `claimed_by` is who the ATS says did it (audited as its
    claim, never as the actor). Nothing is written back into the ATS: it already knows, and no person entered a
    fact.
    """
    claim = {"claimed_by": claimed_by} if claimed_by else {}
    touched: list[str] = []
    for request in deps.store.requests_for_candidate(f"{system}:{record_id}"):
        if request.role_id != role_id:
            continue
        if request.status == "booked" and request.booking_id:
            booking = deps.store.get_booking(request.booking_id)
            if booking.status == "confirmed":
                _cancel(deps, booking, request, by, "ats", note_to_ats=False, audit_details=claim)
                touched.append(booking.booking_id)
        elif request.status == "open" and deps.store.close_request(request.request_id, "cancelled"):
            released = deps.store.release_hold(request.request_id)
            if released is not None:
                delete_events(deps, released.events)
            deps.audit("interview.request_cancelled", by, request.request_id, {"reason": "ats", **claim})
            touched.append(request.request_id)
    return touched


def expire_holds(deps: Deps) -> int:
    """Release holds past their time and remove their "[Hold]" calendar events (run every minute or so)."""
    now_ms = ms(deps.clock())
    count = 0
    for held in deps.store.expired_holds(now_ms):
        released = deps.store.release_hold(held.request_id, held.held_until_ms)
        if released is None:
            continue
        delete_events(deps, released.events)
        deps.audit("slot.hold_expired", "system", held.request_id, {"slot": held.slot_id})
        count += 1
    return count
