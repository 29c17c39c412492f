"""The interviewers' calendars around a booking: free/busy checked again when a candidate holds a time,
tentative "[Hold]" events while they confirm, confirmed events once booked, and removals.

A calendar that fails never blocks a booking (the interviewer locks already prevent double booking):
failures are logged with ids only, and the booking goes on. Without a configured calendar there are no events
(`ConfiguredCalendar` makes none), and a booking goes on the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from foureyes.errors import FoureyesError, SlotTaken
from foureyes.model import parse_iso
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.repository import BookingRecord, HoldRecord, RequestRecord
from foureyes.scheduling.slots import Slot
from foureyes.scheduling.views import offered_slot

log = logging.getLogger(__name__)


def delete_events(deps: Deps, events: Mapping[str, str]) -> None:
    for interviewer, event_id in events.items():
        try:
            deps.calendar.delete(interviewer, event_id)
        except FoureyesError:
            log.warning("could not delete a calendar event", extra={"interviewer": interviewer, "event": event_id})


def hold_events(deps: Deps, slot: Slot, subject: str, ref: str, request_id: str) -> dict[str, str]:
    """Tentative "[Hold] <subject>" events in the slot's interviewers' calendars: interviewer -> event id."""
    events: dict[str, str] = {}
    for interviewer in slot.interviewers:
        try:
            event_id = deps.calendar.create_hold(interviewer, slot.start, slot.end, f"[Hold] {subject}", ref)
        except FoureyesError:
            log.warning("could not create a calendar hold", extra={"interviewer": interviewer,
                                                                   "request": request_id})
            continue
        if event_id:  # '' when no calendar is configured: nothing to remember
            events[interviewer] = event_id
    return events


def confirm_events(deps: Deps, slot: Slot, previous: HoldRecord | None, subject: str, ref: str) -> dict[str, str]:
    """Confirm the held events of `slot` (or create confirmed ones); drop held events of any other slot."""
    events: dict[str, str] = {}
    reusable = dict(previous.events) if previous is not None and previous.slot_id == slot.slot_id else {}
    if previous is not None and previous.slot_id != slot.slot_id:
        delete_events(deps, previous.events)
    for interviewer in slot.interviewers:
        try:
            event_id = reusable.pop(interviewer, "") or deps.calendar.create_hold(
                interviewer, slot.start, slot.end, f"[Hold] {subject}", ref)
            if not event_id:  # no calendar configured: nothing to confirm
                continue
            deps.calendar.confirm(interviewer, event_id, subject)
            events[interviewer] = event_id
        except FoureyesError:
            log.warning("could not confirm a calendar event", extra={"interviewer": interviewer, "ref": ref})
    delete_events(deps, reusable)  # held for someone no longer on the slot
    return events


def still_free(deps: Deps, request: RequestRecord, slot: Slot, own: BookingRecord | None,
               previous: HoldRecord | None) -> None:
    """Free/busy again at the moment of holding: a meeting added since the slots were offered wins.

    The candidate's own booking (when rescheduling) and own current hold do not count against the new
    time. An unreachable calendar does not block the hold: the interviewer locks still prevent double
    booking.
    """
    buffer = timedelta(minutes=int(request.buffer_minutes))
    try:
        calendars = deps.calendar.availability(slot.interviewers, slot.start - buffer, slot.end + buffer)
    except FoureyesError:
        log.warning("calendar unreachable at hold time", extra={"request": request.request_id})
        return
    mine = set()
    if own is not None:
        mine.add((parse_iso(own.start), parse_iso(own.end)))
    if previous is not None:
        try:
            held = offered_slot(deps, request, previous.slot_id, own)
            mine.add((held.start, held.end))
        except FoureyesError:
            pass
    for interviewer in slot.interviewers:
        calendar = calendars.get(interviewer)
        if calendar is None:
            continue
        for busy in calendar.busy:
            if (busy.start, busy.end) in mine:
                continue
            if busy.overlaps(slot.start - buffer, slot.end + buffer):
                raise SlotTaken("that time has just been taken in the interviewer's calendar; please choose another")
