"""What the candidate's booking page shows (`BookingView`): their request's open slots by local day, with a
few suggested, their held time, or their booking with its manage and .ics links (once it has started: the
booking and whom to contact).

A slot is open for a candidate when it is offered, unbooked, far enough ahead, and none of its interviewer
blocks is held or booked by someone else (their own hold or booking aside).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from foureyes.errors import N_, SlotTaken
from foureyes.model import parse_iso
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.links import manage_token, ms
from foureyes.scheduling.locks import block_keys, hold_owner
from foureyes.scheduling.repository import BookingRecord, RequestRecord, booked_slot, slot_of
from foureyes.scheduling.settings import RoleAbout
from foureyes.scheduling.slots import LocalSlot, Slot, by_local_day, localise, rank_by_load, zone

SUGGESTED_SLOTS = 3
WAKING_HOURS = (8, 21)  # a suggested time starts at or after 08:00 and ends by 21:00 in the candidate's zone


def waking(slot: Slot, tz: str) -> bool:
    """Whether `slot` lies inside the candidate's waking hours in `tz` (only those are marked "suggested")."""
    start, end = slot.start.astimezone(zone(tz)), slot.end.astimezone(zone(tz))
    first, last = WAKING_HOURS
    return start.hour >= first and start.date() == end.date() and (end.hour, end.minute) <= (last, 0)


class PageKind(StrEnum):
    CHOOSE = "choose"  # pick a time (first booking)
    HELD = "held"  # confirm the held time
    BOOKED = "booked"  # confirmation, with reschedule and cancel
    CANCELLED = "cancelled"
    STARTED = "started"  # the interview has started (or taken place): nothing to move or cancel here any more
    SUPERSEDED = "superseded"  # a newer invitation for the same role replaced this link
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class BookingView:
    kind: PageKind
    token: str
    role_id: str
    tz: str
    duration_minutes: int
    mode: str
    location: str = ""
    days: tuple[tuple[str, tuple[LocalSlot, ...]], ...] = ()
    held: LocalSlot | None = None
    held_minutes: int = 0
    rescheduling: bool = False
    booked: LocalSlot | None = None
    booking_id: str = ""
    manage_url: str = ""
    ics_url: str = ""
    notice: str = ""
    contact: tuple[str, ...] = ()  # the role's recruiters' addresses, whom the candidate contacts
    about: RoleAbout | None = None  # the role, company, panel and recruiter as candidates read them
    slots: tuple[Slot, ...] = ()  # the open slots in UTC (the page shows them in the reader's chosen zone)
    rebook_url: str = ""  # after a cancellation, while the window is open: where to choose a new time


def open_slots(deps: Deps, request: RequestRecord, own_booking: BookingRecord | None = None) -> list[Slot]:
    """This request's offered slots that are still free for this candidate (their own hold or booking aside)."""
    now = deps.clock()
    earliest = now + timedelta(minutes=deps.settings.rules.min_notice_minutes)
    mine = {hold_owner(request.request_id)} | ({own_booking.booking_id} if own_booking else set())
    taken = deps.store.taken_blocks(request.panel, parse_iso(request.window_start) - timedelta(hours=1),
                                    parse_iso(request.window_end) + timedelta(hours=1), ms(now), mine)
    out = []
    for item in deps.store.slots(request.request_id):
        slot = slot_of(item)
        if item.booking_id or slot.start < earliest:
            continue
        if any(key in taken for key in block_keys(slot.start, slot.end, slot.interviewers,
                                                  int(request.buffer_minutes))):
            continue
        out.append(slot)
    return out


def offered_slot(deps: Deps, request: RequestRecord, slot_id: str, own: BookingRecord | None) -> Slot:
    """`slot_id` when it is still open for this candidate; `SlotTaken` otherwise."""
    for slot in open_slots(deps, request, own):
        if slot.slot_id == slot_id:
            return slot
    raise SlotTaken(N_("this time is no longer available; please choose another"))


def _suggested(deps: Deps, request: RequestRecord, slots: Sequence[Slot]) -> list[str]:
    """A few slots that spread interviews across the panel (marked on the page; the candidate chooses)."""
    awake = [s for s in slots if waking(s, request.candidate_tz)]
    if len(awake) <= SUGGESTED_SLOTS:
        return []
    now = deps.clock()
    load = deps.store.interviewer_load(request.panel, now - timedelta(days=7), parse_iso(request.window_end))
    return [s.slot.slot_id for s in rank_by_load(awake, load)[:SUGGESTED_SLOTS]]


def plan_location(deps: Deps, request: RequestRecord) -> str:
    plan = deps.settings.roles.get(request.role_id)
    return plan.location if plan else ""


def started(deps: Deps, booking: BookingRecord) -> bool:
    """Whether the booked interview has started (so it has taken place, or is taking place): from its start on
    it is no longer moved or cancelled by the candidate, and from then on a person may record its outcome."""
    return deps.clock() >= parse_iso(booking.start)


def base_view(deps: Deps, request: RequestRecord, token: str, kind: PageKind, *,
              panel: tuple[str, ...] | None = None, **extra: Any) -> BookingView:
    return BookingView(kind=kind, token=token, role_id=request.role_id, tz=request.candidate_tz,
                       duration_minutes=int(request.duration_minutes), mode=request.mode,
                       location=plan_location(deps, request),
                       contact=deps.settings.recruiter_emails(request.role_id),
                       about=deps.settings.about(request.role_id, panel), **extra)


def started_view(deps: Deps, request: RequestRecord, booking: BookingRecord, token: str,
                 notice: str = "") -> BookingView:
    return base_view(deps, request, token, PageKind.STARTED, booked=localise(booked_slot(booking),
                                                                             request.candidate_tz),
                     booking_id=booking.booking_id, notice=notice, panel=tuple(booking.interviewers))


def choose_view(deps: Deps, request: RequestRecord, token: str, own: BookingRecord | None = None,
                notice: str = "") -> BookingView:
    slots = [s for s in open_slots(deps, request, own) if own is None or s.slot_id != own.slot_id]
    days = by_local_day(slots, request.candidate_tz, _suggested(deps, request, slots))
    if own is not None:
        return booked_view(deps, request, own, token, days=days, notice=notice, slots=slots)
    return base_view(deps, request, token, PageKind.CHOOSE, days=tuple((d, tuple(s)) for d, s in days),
                     notice=notice, slots=tuple(slots))


def booked_view(deps: Deps, request: RequestRecord, booking: BookingRecord, token: str,
                days: Sequence[tuple[str, Sequence[LocalSlot]]] = (), notice: str = "",
                slots: Sequence[Slot] = ()) -> BookingView:
    manage = manage_token(deps, request, booking.booking_id)
    return base_view(deps, request, token, PageKind.BOOKED, booked=localise(booked_slot(booking), request.candidate_tz),
                     booking_id=booking.booking_id, manage_url=f"{deps.base_url}/book/{manage}",
                     ics_url=f"{deps.base_url}/book/{manage}?format=ics",
                     days=tuple((d, tuple(s)) for d, s in days), notice=notice, slots=tuple(slots),
                     panel=tuple(booking.interviewers))
