"""What scheduling needs from its storage: the `SchedulingRepository` protocol and the records it returns.

`foureyes.store.scheduling.SchedulingStore` implements it; unit tests hand in fakes. The records are the
store's items, read-only here; times are stored ISO strings in UTC (`model.parse_iso`).
Also the conversions from records to scheduling's values (`slot_of`, `booked_slot`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from foureyes.model import parse_iso
from foureyes.scheduling.slots import InterviewRequest, Slot
from foureyes.store.scheduling_models import BookingItem, FeedbackItem, InterviewRequestItem, SlotItem
from foureyes.store.scheduling_values import Hold, Moved, Opened

# The records the repository returns are the store's items (read-only here; times are ISO strings in UTC).
RequestRecord = InterviewRequestItem
SlotRecord = SlotItem
BookingRecord = BookingItem
FeedbackRecord = FeedbackItem
HoldRecord = Hold
MovedRecord = Moved
OpenedRecord = Opened


class SchedulingRepository(Protocol):
    """Reads and conditional writes of requests, slots, holds, bookings and feedback; every write is safe
    under concurrency (a lost race is `False`, `SlotTaken`, `AlreadyBooked` or `Conflict`).

    Invariants it keeps in its writes, whatever the flows do: one current request per candidate and role (a
    new one supersedes the open one; none opens beside a confirmed booking), one booking per slot, one
    confirmed booking per candidate and role, no interviewer in two interviews at once, nothing booked or
    moved into the past, a started interview never moved, and an outcome only on a standing booking.
    """

    # requests and slots
    def create_request(self, request: InterviewRequest, *, candidate_email: str, created_by: str,
                       template_id: str, buffer_minutes: int, slots: Sequence[Slot], now: datetime,
                       status: str = "open") -> OpenedRecord: ...

    def get_request(self, request_id: str) -> RequestRecord: ...

    def requests_with_status(self, status: str) -> Sequence[RequestRecord]: ...

    def requests_for_candidate(self, candidate_ref: str) -> Sequence[RequestRecord]: ...

    def close_request(self, request_id: str, status: str) -> bool: ...

    def reopen_request(self, request_id: str, booking_id: str, *, nudges_sent: int) -> bool: ...

    def slots(self, request_id: str) -> Sequence[SlotRecord]: ...

    def taken_blocks(self, interviewers: Iterable[str], start: datetime, end: datetime, now_ms: int,
                     mine: Iterable[str] = ()) -> Mapping[str, str]: ...

    def interviewer_load(self, interviewers: Iterable[str], start: datetime, end: datetime) -> Mapping[str, int]: ...

    # holds
    def get_hold(self, request_id: str) -> HoldRecord | None: ...

    def hold(self, request_id: str, slot_id: str, *, buffer_minutes: int, now_ms: int, ttl_seconds: int,
             own_booking_id: str = "", own_blocks: Collection[str] = ()) -> HoldRecord: ...

    def set_hold_events(self, request_id: str, held_until_ms: int, events: dict[str, str]) -> None: ...

    def release_hold(self, request_id: str, held_until_ms: int | None = None) -> HoldRecord | None: ...

    def expired_holds(self, now_ms: int) -> Sequence[HoldRecord]: ...

    # bookings
    def get_booking(self, booking_id: str) -> BookingRecord: ...

    def bookings_with_status(self, status: str, start_from: datetime,
                             start_to: datetime) -> Sequence[BookingRecord]: ...

    def book(self, request: RequestRecord, slot_id: str, booking_id: str, *, buffer_minutes: int,
             now: datetime) -> BookingRecord: ...

    def cancel(self, booking_id: str, *, by: str, reason: str, now: datetime) -> BookingRecord: ...

    def reschedule(self, booking_id: str, new_slot_id: str, *, buffer_minutes: int, now: datetime) -> MovedRecord: ...

    def set_booking_events(self, booking_id: str, sequence: int, events: dict[str, str]) -> None: ...

    def claim_flag(self, booking_id: str, flag: str, sequence: int) -> bool: ...

    def claim_nudge(self, request_id: str, sent_so_far: int, now: datetime) -> bool: ...

    def set_outcome(self, request_id: str, outcome: str, by: str, now: datetime) -> RequestRecord: ...

    def clear_outcome(self, request_id: str, outcome: str, previous_status: str) -> None: ...

    # feedback
    def put_feedback(self, booking_id: str, interviewer_id: str, *, request_id: str, role_id: str,
                     recommendation: str, rating: int | None, notes: str, now: datetime,
                     replaces: str | None = None) -> FeedbackRecord: ...

    def feedback(self, booking_id: str) -> Sequence[FeedbackRecord]: ...


def slot_of(record: SlotRecord) -> Slot:
    """An offered slot as scheduling's value."""
    return Slot(record.slot_id, parse_iso(record.start), parse_iso(record.end), tuple(record.interviewers))


def booked_slot(booking: BookingRecord) -> Slot:
    """The slot a booking has now."""
    return Slot(booking.slot_id, parse_iso(booking.start), parse_iso(booking.end), tuple(booking.interviewers))
