"""The candidate's booking link: view their slots, hold one, confirm it (book, or move a booking through the
manage link: a reschedule), and download the current invitation.

A booking link (`book`) names the request and only books, while nothing is booked; a manage link (`manage`)
names the booking and moves or cancels it, and survives a reschedule. Every step is one conditional write
or transaction in the repository; every step is audited with ids only.

Holding, booking and moving a time pass the same checks, in one place (`checked`): the link may book (or
move) now, the interview has not started, and the time is offered, unbooked, at least the minimum notice
ahead and free of anyone else's hold or booking. Once an interview has started, its link shows it and whom
to contact; nothing is moved or cancelled any more.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from foureyes.errors import Conflict, NotFound
from foureyes.model import parse_iso
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.invites import ics_email, subject_of, when
from foureyes.scheduling.links import BOOK, MANAGE, booking_url, claims_of, manage_token, ms
from foureyes.scheduling.panel_calendar import confirm_events, delete_events, hold_events, still_free
from foureyes.scheduling.repository import BookingRecord, RequestRecord, booked_slot
from foureyes.scheduling.slots import Slot, localise
from foureyes.scheduling.views import (
    BookingView,
    PageKind,
    base_view,
    booked_view,
    choose_view,
    offered_slot,
    started,
    started_view,
)
from foureyes.web.i18n import N_, Language
from foureyes.web.templating import when_text


def load(deps: Deps, token: str) -> tuple[dict[str, Any], RequestRecord, BookingRecord | None]:
    """The claims of a booking or manage link, its request, and the request's booking (if any)."""
    claims = claims_of(deps, token, (BOOK, MANAGE))
    if claims["k"] == BOOK:
        request = deps.store.get_request(str(claims.get("r", "")))
        booking = deps.store.get_booking(request.booking_id) if request.booking_id else None
        if booking is not None and booking.status != "confirmed" and request.status == "open":
            booking = None  # the candidate cancelled and the request is open again: they choose a new time
        return claims, request, booking
    booking = deps.store.get_booking(str(claims.get("b", "")))
    return claims, deps.store.get_request(booking.request_id), booking


def view(token: str, deps: Deps, notice: str = "") -> BookingView:
    """GET /book/{token}: the candidate's own open slots (or their booking); viewing is audited."""
    claims, request, booking = load(deps, token)
    deps.audit("booking.viewed", request.candidate_ref, request.request_id,
               {"link": claims["k"], "booking": booking.booking_id if booking else ""})
    if booking is not None and booking.status == "confirmed":
        if started(deps, booking):
            return started_view(deps, request, booking, token, notice)
        return choose_view(deps, request, token, booking, notice)
    if booking is not None or request.status == "cancelled":
        rebook = booking_url(deps, request) if request.status == "open" else ""
        return base_view(deps, request, token, PageKind.CANCELLED, notice=notice, rebook_url=rebook)
    if request.status == "superseded":
        return base_view(deps, request, token, PageKind.SUPERSEDED, notice=notice)
    if request.status != "open":
        return base_view(deps, request, token, PageKind.CLOSED, notice=notice)
    return choose_view(deps, request, token, notice=notice)


def not_started(deps: Deps, request: RequestRecord, booking: BookingRecord, what: str) -> None:
    """`Conflict` when the booked interview has started: it has taken place (or is taking place) and is no
    longer `what` ("moved", "cancelled") by the candidate; the page says whom to contact instead."""
    if started(deps, booking):
        raise Conflict(f"Your interview started on {when(booking, request.candidate_tz)}, so it can no longer be "
                       f"{what} here. Please contact your recruiter.")


def _own_booking(deps: Deps, claims: Mapping[str, Any], request: RequestRecord,
                 booking: BookingRecord | None) -> BookingRecord | None:
    """The booking a manage link moves (until it starts); a booking link only books, and only while nothing is
    booked (a second tab that confirms after the first gets a conflict, never a silent move)."""
    if claims["k"] == MANAGE:
        if booking is None or booking.status != "confirmed":
            raise Conflict(N_("this interview is cancelled; it cannot be moved"))
        not_started(deps, request, booking, "moved")
        return booking
    if request.status == "superseded":
        raise Conflict(N_("this invitation was replaced by a newer one; please use the link in the latest e-mail"))
    if request.status != "open":
        raise Conflict("an interview is already booked (or closed) for this link; use the link in your "
                       "confirmation to reschedule")
    return None


def checked(deps: Deps, token: str, slot_id: str) -> tuple[dict[str, Any], RequestRecord, BookingRecord | None, Slot]:
    """The checks every hold, booking and move passes: the link's claims, its request, the booking it moves
    (None when it books), and `slot_id` as a slot that is offered, unbooked, at least the minimum notice ahead
    and free of anyone else's hold or booking (`SlotTaken` otherwise)."""
    claims, request, booking = load(deps, token)
    own = _own_booking(deps, claims, request, booking)
    return claims, request, own, offered_slot(deps, request, slot_id, own)


def hold(token: str, slot_id: str, deps: Deps) -> BookingView:
    """POST action=hold: hold the chosen time briefly (and put tentative "[Hold]" events in the panel's calendars)."""
    _, request, own, slot = checked(deps, token, slot_id)
    now = deps.clock()
    previous = deps.store.get_hold(request.request_id)
    if previous is None or previous.slot_id != slot_id:
        still_free(deps, request, slot, own, previous)
    held = deps.store.hold(request.request_id, slot_id, buffer_minutes=int(request.buffer_minutes), now_ms=ms(now),
                           ttl_seconds=deps.settings.hold_minutes * 60,
                           own_booking_id=own.booking_id if own else "", own_blocks=own.blocks if own else ())
    if previous is not None and previous.slot_id == slot_id and previous.events:
        events = dict(previous.events)
    else:
        if previous is not None:
            delete_events(deps, previous.events)
        events = hold_events(deps, slot, subject_of(request), f"{request.request_id}:{slot_id}:{held.held_until_ms}",
                             request.request_id)
    deps.store.set_hold_events(request.request_id, held.held_until_ms, events)
    deps.audit("slot.held", request.candidate_ref, request.request_id,
               {"slot": slot_id, "held_until": held.held_until_ms, "booking": own.booking_id if own else ""})
    return base_view(deps, request, token, PageKind.HELD, held=localise(slot, request.candidate_tz),
                     held_minutes=deps.settings.hold_minutes, rescheduling=own is not None,
                     booking_id=own.booking_id if own else "")


def confirm(token: str, slot_id: str, deps: Deps, language: str = "") -> BookingView:
    """POST action=confirm: book (booking link) or move (manage link) in one conditional transaction; both
    pass the checks a hold passes (`checked`)."""
    claims, request, own, _ = checked(deps, token, slot_id)
    if own is not None:
        return _reschedule(deps, request, own, slot_id, token, language)
    now = deps.clock()
    previous = deps.store.get_hold(request.request_id)
    booking_id = "bk_" + uuid.uuid4().hex[:24]
    made = deps.store.book(request, slot_id, booking_id, buffer_minutes=int(request.buffer_minutes), now=now)
    events = confirm_events(deps, booked_slot(made), previous, subject_of(made), f"{booking_id}:0")
    deps.store.set_booking_events(booking_id, 0, events)
    manage = manage_token(deps, request, booking_id)
    said = Language.of(language or request.candidate_language or None)
    text = (said.gettext("Your interview is booked for %(when)s.") % {"when": _when(made, request, said)} + "\n"
            + said.gettext("The attached invitation adds it to your calendar.") + "\n"
            + said.gettext("Reschedule or cancel:") + f" {deps.base_url}/book/{manage}\n")
    deps.send(ics_email(deps, request, made, "REQUEST", said.gettext(N_("Your interview is booked")), text, 0,
                        said.code))
    deps.audit("interview.booked", request.candidate_ref, booking_id,
               {"request": request.request_id, "slot": slot_id, "interviewers": list(made.interviewers),
                "link": claims["k"]})
    deps.notify("interview.booked", {"booking": booking_id, "request": request.request_id,
                                     "candidate": request.candidate_ref, "role": request.role_id})
    return booked_view(deps, request, made, manage)


def _when(booking: BookingRecord, request: RequestRecord, language: Language) -> str:
    return when_text(parse_iso(booking.start), parse_iso(booking.end), request.candidate_tz, language)


def _reschedule(deps: Deps, request: RequestRecord, own: BookingRecord, slot_id: str, token: str,
                language: str = "") -> BookingView:
    """Move the candidate's booking to `slot_id` (same booking id and UID, SEQUENCE + 1)."""
    now = deps.clock()
    previous = deps.store.get_hold(request.request_id)
    moved = deps.store.reschedule(own.booking_id, slot_id, buffer_minutes=int(request.buffer_minutes), now=now)
    after = moved.after
    delete_events(deps, dict(moved.before.events))
    events = confirm_events(deps, booked_slot(after), previous, subject_of(after),
                            f"{after.booking_id}:{after.sequence}")
    deps.store.set_booking_events(after.booking_id, int(after.sequence), events)
    manage = manage_token(deps, request, after.booking_id)
    said = Language.of(language or request.candidate_language or None)
    text = (said.gettext("Your interview is moved to %(when)s.") % {"when": _when(after, request, said)} + "\n"
            + said.gettext("Reschedule or cancel:") + f" {deps.base_url}/book/{manage}\n")
    deps.send(ics_email(deps, request, after, "REQUEST", said.gettext(N_("Your interview is moved")), text,
                        int(after.sequence), said.code))
    deps.audit("interview.rescheduled", request.candidate_ref, after.booking_id,
               {"request": request.request_id, "from": moved.before.slot_id, "to": after.slot_id,
                "sequence": int(after.sequence), "interviewers": list(after.interviewers)})
    deps.notify("interview.rescheduled", {"booking": after.booking_id, "request": request.request_id})
    return booked_view(deps, request, after, token)


def ics_download(token: str, deps: Deps) -> bytes:
    """GET /book/{manage token}?format=ics: the current invitation (same UID, current SEQUENCE)."""
    _, request, booking = load(deps, token)
    if booking is None:
        raise NotFound(N_("nothing is booked yet"))
    method = "REQUEST" if booking.status == "confirmed" else "CANCEL"
    sequence = int(booking.sequence) + (0 if method == "REQUEST" else 1)
    deps.audit("booking.ics_downloaded", request.candidate_ref, booking.booking_id, {"sequence": sequence})
    return ics_email(deps, request, booking, method, "", "", sequence).attachments[0].data
