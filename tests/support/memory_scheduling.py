"""An in-memory scheduling repository with the contract of `foureyes.store.scheduling.SchedulingStore`: the same
lock rows (named by `foureyes.scheduling.locks`), the same conditions, each write all-or-nothing, so unit tests
run the scheduling flows on a real collaborator without moto.

Records are the store's pynamodb items, copied in and out (serialise/deserialise, as a table would), so a test
never shares an object with the code under test. `integration/test_scheduling_store.py` holds the real store to
the same rules.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from foureyes.errors import AlreadyBooked, Conflict, NotFound, SlotTaken
from foureyes.model import iso, parse_iso
from foureyes.scheduling import locks
from foureyes.scheduling.slots import InterviewRequest, Slot
from foureyes.store.scheduling_models import BookingItem, FeedbackItem, InterviewRequestItem, SlotItem
from foureyes.store.scheduling_values import Hold, Moved, Opened, check_ahead, check_move
from tests.support.memory import copy


@dataclass
class Lock:
    owner: str
    state: str  # held | booked | guard | request | hold
    held_until: int = 0
    request_id: str = ""
    slot_id: str = ""
    blocks: tuple[str, ...] = ()
    events: dict[str, str] = field(default_factory=dict)


class MemorySchedulingStore:
    """`SchedulingRepository` in memory (single-threaded: every method is one atomic step)."""

    def __init__(self) -> None:
        self.requests: dict[str, InterviewRequestItem] = {}
        self.slot_items: dict[tuple[str, str], SlotItem] = {}
        self.bookings: dict[str, BookingItem] = {}
        self.locks: dict[str, Lock] = {}  # "<pk>|<sk>" -> row
        self.feedback_items: dict[tuple[str, str], FeedbackItem] = {}

    # -- requests and slots --------------------------------------------------------------------------
    def create_request(self, request: InterviewRequest, *, candidate_email: str, created_by: str,
                       template_id: str, buffer_minutes: int, slots: Sequence[Slot], now: datetime,
                       status: str = "open") -> Opened:
        if request.request_id in self.requests:
            return Opened(False)
        guard = f"{locks.request_guard_key(request.candidate_ref, request.role_id)}|{locks.GUARD_SK}"
        superseded = ""
        if status == "open":
            booked = self.locks.get(f"{locks.guard_key(request.candidate_ref, request.role_id)}|{locks.GUARD_SK}")
            if booked is not None:
                return Opened(False, refused_by=booked.owner)
            named = self.locks.get(guard)
            if named is not None and self.requests[named.owner].status == "open":
                superseded = named.owner
                self.requests[superseded].status = "superseded"
                self.requests[superseded].superseded_by = request.request_id
            self.locks[guard] = Lock(request.request_id, "request", request_id=request.request_id)
        self.requests[request.request_id] = InterviewRequestItem(
            request.request_id, candidate_ref=request.candidate_ref, system=request.system, role_id=request.role_id,
            panel=list(request.panel), panel_size=request.panel_size, duration_minutes=request.duration_minutes,
            mode=str(request.mode), window_start=iso(request.window_start), window_end=iso(request.window_end),
            candidate_tz=request.candidate_tz, candidate_language=request.candidate_language,
            candidate_email=candidate_email, stage=request.stage, status=status,
            created_at=iso(now), created_by=created_by, template_id=template_id, buffer_minutes=buffer_minutes,
            nudges_sent=0, expires_at=0)
        for slot in slots:
            self.slot_items[(request.request_id, slot.slot_id)] = SlotItem(
                request.request_id, slot.slot_id, start=iso(slot.start), end=iso(slot.end),
                interviewers=list(slot.interviewers), expires_at=0)
        return Opened(True, superseded=superseded)

    def get_request(self, request_id: str) -> InterviewRequestItem:
        if request_id not in self.requests:
            raise NotFound("this interview request does not exist")
        return copy(self.requests[request_id])

    def requests_with_status(self, status: str) -> list[InterviewRequestItem]:
        return [copy(r) for r in self.requests.values() if r.status == status]

    def requests_for_candidate(self, candidate_ref: str) -> list[InterviewRequestItem]:
        return [copy(r) for r in self.requests.values() if r.candidate_ref == candidate_ref]

    def close_request(self, request_id: str, status: str) -> bool:
        item = self.requests.get(request_id)
        if item is None or item.status != "open":
            return False
        item.status = status
        return True

    def reopen_request(self, request_id: str, booking_id: str, *, nudges_sent: int) -> bool:
        item = self.requests.get(request_id)
        if item is None or item.status != "cancelled" or item.booking_id != booking_id:
            return False
        item.status = "open"
        item.nudges_sent = max(int(item.nudges_sent), nudges_sent)
        return True

    def slots(self, request_id: str) -> list[SlotItem]:
        return [copy(s) for (rid, _), s in sorted(self.slot_items.items()) if rid == request_id]

    def _slot(self, request_id: str, slot_id: str) -> SlotItem:
        if (request_id, slot_id) not in self.slot_items:
            raise NotFound("this time is not offered for this interview")
        return self.slot_items[(request_id, slot_id)]

    def _blocks(self, slot: SlotItem, buffer_minutes: int) -> list[str]:
        return locks.block_keys(parse_iso(slot.start), parse_iso(slot.end), slot.interviewers, buffer_minutes)

    def taken_blocks(self, interviewers: Iterable[str], start: datetime, end: datetime, now_ms: int,
                     mine: Iterable[str] = ()) -> dict[str, str]:
        ignore, lo, hi = set(mine), locks.floor_block(start), locks.floor_block(end)
        pks = {locks.interviewer_pk(iv) for iv in interviewers}
        taken: dict[str, str] = {}
        for key, row in self.locks.items():
            pk, sk = locks.split(key)
            live = row.state == "booked" or (row.state == "held" and row.held_until > now_ms)
            if pk in pks and lo <= sk <= hi and live and row.owner not in ignore:
                taken[key] = row.owner
        return taken

    def interviewer_load(self, interviewers: Iterable[str], start: datetime, end: datetime) -> dict[str, int]:
        lo, hi = locks.floor_block(start), locks.floor_block(end)
        load: dict[str, int] = {}
        for iv in set(interviewers):
            pk = locks.interviewer_pk(iv)
            load[iv] = len({row.owner for key, row in self.locks.items() if row.state == "booked"
                            and locks.split(key)[0] == pk and lo <= locks.split(key)[1] <= hi})
        return load

    # -- holds ---------------------------------------------------------------------------------------
    def _free_or_mine(self, key: str, owner: str, now_ms: int) -> bool:
        row = self.locks.get(key)
        return row is None or (row.state == "held" and (row.held_until < now_ms or row.owner == owner))

    def get_hold(self, request_id: str) -> Hold | None:
        row = self.locks.get(f"{locks.hold_pk(request_id)}|{locks.HOLD_SK}")
        if row is None:
            return None
        return Hold(request_id, row.slot_id, row.held_until, tuple(row.blocks), dict(row.events))

    def hold(self, request_id: str, slot_id: str, *, buffer_minutes: int, now_ms: int, ttl_seconds: int,
             own_booking_id: str = "", own_blocks: Collection[str] = ()) -> Hold:
        slot = self._slot(request_id, slot_id)
        keys = self._blocks(slot, buffer_minutes)
        owner, own, until = locks.hold_owner(request_id), set(own_blocks), now_ms + ttl_seconds * 1000
        if self.requests[request_id].status not in ("open", "booked"):
            raise Conflict("this invitation is no longer open")
        free = slot.booking_id is None and all(
            (self.locks.get(k) is not None and self.locks[k].owner == own_booking_id) if k in own
            else self._free_or_mine(k, owner, now_ms) for k in keys)
        if not free:
            raise SlotTaken("this time was just taken; please choose another")
        previous = self.get_hold(request_id)
        for key in keys:
            if key not in own:
                self.locks[key] = Lock(owner, "held", until)
        self.locks[f"{locks.hold_pk(request_id)}|{locks.HOLD_SK}"] = Lock(
            owner, "hold", until, request_id=request_id, slot_id=slot_id, blocks=tuple(keys))
        if previous is not None:
            self._release_blocks([k for k in previous.blocks if k not in keys], owner)
        return Hold(request_id, slot_id, until, tuple(keys), {})

    def set_hold_events(self, request_id: str, held_until_ms: int, events: dict[str, str]) -> None:
        row = self.locks.get(f"{locks.hold_pk(request_id)}|{locks.HOLD_SK}")
        if row is not None and row.held_until == held_until_ms:
            row.events = dict(events)

    def _release_blocks(self, keys: Iterable[str], owner: str) -> None:
        for key in keys:
            row = self.locks.get(key)
            if row is not None and row.owner == owner and row.state == "held":
                del self.locks[key]

    def release_hold(self, request_id: str, held_until_ms: int | None = None) -> Hold | None:
        hold = self.get_hold(request_id)
        if hold is None or (held_until_ms is not None and hold.held_until_ms != held_until_ms):
            return None
        del self.locks[f"{locks.hold_pk(request_id)}|{locks.HOLD_SK}"]
        self._release_blocks(hold.blocks, locks.hold_owner(request_id))
        return hold

    def expired_holds(self, now_ms: int) -> list[Hold]:
        return [Hold(row.request_id, row.slot_id, row.held_until, tuple(row.blocks), dict(row.events))
                for row in self.locks.values() if row.state == "hold" and row.held_until < now_ms]

    # -- bookings ------------------------------------------------------------------------------------
    def get_booking(self, booking_id: str) -> BookingItem:
        if booking_id not in self.bookings:
            raise NotFound("this booking does not exist")
        return copy(self.bookings[booking_id])

    def bookings_with_status(self, status: str, start_from: datetime, start_to: datetime) -> list[BookingItem]:
        lo, hi = iso(start_from), iso(start_to)
        return [copy(b) for b in self.bookings.values() if b.status == status and lo <= b.start <= hi]

    def book(self, request: InterviewRequestItem, slot_id: str, booking_id: str, *, buffer_minutes: int,
             now: datetime) -> BookingItem:
        slot = self._slot(request.request_id, slot_id)
        check_ahead(slot, now)
        keys = self._blocks(slot, buffer_minutes)
        guard = locks.guard_key(request.candidate_ref, request.role_id)
        owner, now_ms = locks.hold_owner(request.request_id), int(now.timestamp() * 1000)
        if f"{guard}|{locks.GUARD_SK}" in self.locks:
            raise AlreadyBooked("an interview is already booked for this role")
        current = self.requests[request.request_id]
        if current.status == "superseded":
            raise Conflict("this invitation was replaced by a newer one; please use the link in the latest e-mail")
        if current.status != "open":
            raise AlreadyBooked("this interview is already booked or closed")
        if slot.booking_id is not None or not all(self._free_or_mine(k, owner, now_ms) for k in keys):
            raise SlotTaken("this time was just taken; please choose another")
        previous = self.get_hold(request.request_id)
        stamp = iso(now)
        booking = BookingItem(booking_id, request_id=request.request_id, slot_id=slot_id,
                              candidate_ref=request.candidate_ref, role_id=request.role_id, mode=request.mode,
                              start=slot.start, end=slot.end, interviewers=list(slot.interviewers),
                              status="confirmed", sequence=0, guard_key=guard, blocks=keys, events={},
                              booked_at=stamp, updated_at=stamp)
        self.bookings[booking_id] = booking
        slot.booking_id = booking_id
        current.status, current.booking_id = "booked", booking_id
        self.locks[f"{guard}|{locks.GUARD_SK}"] = Lock(booking_id, "guard")
        for key in keys:
            self.locks[key] = Lock(booking_id, "booked")
        self.locks.pop(f"{locks.hold_pk(request.request_id)}|{locks.HOLD_SK}", None)
        if previous is not None:
            self._release_blocks([k for k in previous.blocks if k not in keys], owner)
        return copy(booking)

    def cancel(self, booking_id: str, *, by: str, reason: str, now: datetime) -> BookingItem:
        booking = self.bookings[booking_id]
        if booking.status != "confirmed":
            raise Conflict("this interview is already cancelled")
        stamp = iso(now)
        booking.status, booking.cancelled_at, booking.cancelled_by = "cancelled", stamp, by
        booking.cancel_reason, booking.updated_at = reason, stamp
        self.slot_items[(booking.request_id, booking.slot_id)].booking_id = None
        self.requests[booking.request_id].status = "cancelled"
        self.locks.pop(f"{booking.guard_key}|{locks.GUARD_SK}", None)
        for key in booking.blocks:
            self.locks.pop(key, None)
        return copy(booking)

    def reschedule(self, booking_id: str, new_slot_id: str, *, buffer_minutes: int, now: datetime) -> Moved:
        before = self.get_booking(booking_id)
        check_move(before, new_slot_id, now)
        slot = self._slot(before.request_id, new_slot_id)
        check_ahead(slot, now)
        old_keys, new_keys = set(before.blocks), self._blocks(slot, buffer_minutes)
        owner, now_ms = locks.hold_owner(before.request_id), int(now.timestamp() * 1000)
        if slot.booking_id is not None or not all(
                k in old_keys or self._free_or_mine(k, owner, now_ms) for k in new_keys):
            raise SlotTaken("this time was just taken, or the interview changed meanwhile")
        previous = self.get_hold(before.request_id)
        booking = self.bookings[booking_id]
        booking.slot_id, booking.start, booking.end = new_slot_id, slot.start, slot.end
        booking.interviewers, booking.blocks = list(slot.interviewers), new_keys
        booking.sequence, booking.updated_at = int(before.sequence) + 1, iso(now)
        booking.reminded, booking.events = False, {}
        self.slot_items[(before.request_id, before.slot_id)].booking_id = None
        slot.booking_id = booking_id
        for key in old_keys.difference(new_keys):
            del self.locks[key]
        for key in new_keys:
            self.locks[key] = Lock(booking_id, "booked")
        self.locks.pop(f"{locks.hold_pk(before.request_id)}|{locks.HOLD_SK}", None)
        if previous is not None:
            self._release_blocks([k for k in previous.blocks if k not in new_keys], owner)
        return Moved(before, self.get_booking(booking_id))

    def set_booking_events(self, booking_id: str, sequence: int, events: dict[str, str]) -> None:
        booking = self.bookings[booking_id]
        if int(booking.sequence) == sequence:
            booking.events = dict(events)

    def claim_flag(self, booking_id: str, flag: str, sequence: int) -> bool:
        booking = self.bookings[booking_id]
        if getattr(booking, flag) or booking.status != "confirmed" or int(booking.sequence) != sequence:
            return False
        setattr(booking, flag, True)
        return True

    def claim_nudge(self, request_id: str, sent_so_far: int, now: datetime) -> bool:
        item = self.requests[request_id]
        if int(item.nudges_sent) != sent_so_far or item.status != "open":
            return False
        item.nudges_sent, item.last_nudge_at = sent_so_far + 1, iso(now)
        return True

    def set_outcome(self, request_id: str, outcome: str, by: str, now: datetime) -> InterviewRequestItem:
        item = self.requests[request_id]
        if item.outcome:
            raise Conflict("an outcome is already recorded for this interview")
        if item.status != "booked":
            raise Conflict("this interview was cancelled or never booked, so it has no outcome")
        item.outcome, item.outcome_by, item.outcome_at, item.status = outcome, by, iso(now), "closed"
        return copy(item)

    def clear_outcome(self, request_id: str, outcome: str, previous_status: str) -> None:
        item = self.requests[request_id]
        if item.outcome == outcome:
            item.outcome = item.outcome_by = item.outcome_at = None
            item.status = previous_status

    # -- feedback ------------------------------------------------------------------------------------
    def put_feedback(self, booking_id: str, interviewer_id: str, *, request_id: str, role_id: str,
                     recommendation: str, rating: int | None, notes: str, now: datetime,
                     replaces: str | None = None) -> FeedbackItem:
        current = self.feedback_items.get((booking_id, interviewer_id))
        if (current is not None and replaces is None) or (
                replaces is not None and (current is None or current.submitted_at != replaces)):
            raise Conflict("your feedback for this interview is already recorded")
        item = FeedbackItem(booking_id, interviewer_id, request_id=request_id, role_id=role_id,
                            recommendation=recommendation, rating=rating, notes=notes, submitted_at=iso(now))
        self.feedback_items[(booking_id, interviewer_id)] = item
        return copy(item)

    def feedback(self, booking_id: str) -> list[FeedbackItem]:
        return [copy(f) for (bid, _), f in sorted(self.feedback_items.items()) if bid == booking_id]

