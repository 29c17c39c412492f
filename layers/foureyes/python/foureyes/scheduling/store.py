"""Scheduling storage: interview requests, offered slots, bookings, locks and feedback (pynamodb).

No double booking comes from conditional writes inside one `TransactWriteItems` per step:

- a booking writes the booking, marks its slot (`booking_id` must be absent), puts a *guard* item
  (`guard#onsite#<candidate>#<role>` for an onsite day, `guard#request#<id>` otherwise; it must not
  exist) and one *block* lock per interviewer per quarter hour the interview and its trailing buffer
  occupy (`iv#<interviewer>` / `2026-03-27T08:00Z`; it must be absent, or a hold that expired or is
  this candidate's own). One slot, one candidate; one onsite day per candidate and role; and no
  interviewer in two interviews at once, across candidates and requests.
- a hold puts the same blocks as `held` with `held_until` (epoch ms), plus a hold record
  (`hold#<request>`) that the sweeper finds through the sparse `ByKind` index when it expires.
- cancelling deletes the guard and the blocks and frees the slot in one transaction; rescheduling
  moves the booking (same booking id, SEQUENCE + 1) from one slot to another in one transaction.

Tables (names from environment variables; key schemas must agree with template.yaml):

| env var | hash / range | GSIs | TTL |
|---|---|---|---|
| INTERVIEW_REQUESTS_TABLE | request_id | ByStatus (status / created_at), | expires_at |
| | | ByCandidate (candidate_ref / created_at) | |
| SLOTS_TABLE | request_id / slot_id | | expires_at |
| BOOKINGS_TABLE | booking_id | ByRequest (request_id / booked_at), ByStatus (status / start) | |
| SCHEDULING_LOCKS_TABLE | pk / sk | ByKind (kind / held_until, number; sparse) | expires_at |
| FEEDBACK_TABLE | booking_id / interviewer_id | | |
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from foureyes.errors import AlreadyBooked, BadRequest, Conflict, NotFound, SlotTaken
from foureyes.scheduling.slots import InterviewRequest, Mode, Slot, iso, lock_blocks, parse_iso
from foureyes.store.models import _Base, _str_list, bound

log = logging.getLogger(__name__)

MAX_TRANSACTION_ITEMS = 100
TRANSACTION_ATTEMPTS = 6
RETENTION_DAYS = 200  # requests and slots outlive the 6-month audit window slightly, then TTL removes them


def _now_ms() -> int:
    return int(time.time() * 1000)


# -- models -------------------------------------------------------------------------------------------


class RequestsByStatus(GlobalSecondaryIndex["InterviewRequestItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "ByStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class RequestsByCandidate(GlobalSecondaryIndex["InterviewRequestItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "ByCandidate"
        projection = AllProjection()

    candidate_ref = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class InterviewRequestItem(_Base):
    TABLE_ENV = "INTERVIEW_REQUESTS_TABLE"
    by_status = RequestsByStatus()
    by_candidate = RequestsByCandidate()
    request_id = UnicodeAttribute(hash_key=True)
    candidate_ref = UnicodeAttribute()
    system = UnicodeAttribute()
    role_id = UnicodeAttribute()
    panel = _str_list()
    panel_size = NumberAttribute(default=0)
    duration_minutes = NumberAttribute()
    mode = UnicodeAttribute()
    window_start = UnicodeAttribute()
    window_end = UnicodeAttribute()
    candidate_tz = UnicodeAttribute()
    candidate_email = UnicodeAttribute()  # needed to send the link and reminders; never logged
    stage = UnicodeAttribute(default="")
    status = UnicodeAttribute()  # open | booked | cancelled | closed
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()  # the person whose stage change caused this request
    template_id = UnicodeAttribute(default="")
    buffer_minutes = NumberAttribute(default=0)
    nudges_sent = NumberAttribute(default=0)
    last_nudge_at = UnicodeAttribute(null=True)
    booking_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    outcome_by = UnicodeAttribute(null=True)
    outcome_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()

    def to_request(self) -> InterviewRequest:
        return InterviewRequest(self.request_id, self.candidate_ref, self.role_id, tuple(self.panel),
                                int(self.duration_minutes), Mode(self.mode), parse_iso(self.window_start),
                                parse_iso(self.window_end), self.candidate_tz, int(self.panel_size), self.stage)


class SlotItem(_Base):
    TABLE_ENV = "SLOTS_TABLE"
    request_id = UnicodeAttribute(hash_key=True)
    slot_id = UnicodeAttribute(range_key=True)
    start = UnicodeAttribute()
    end = UnicodeAttribute()
    interviewers = _str_list()
    booking_id = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()

    def to_slot(self) -> Slot:
        return Slot(self.slot_id, parse_iso(self.start), parse_iso(self.end), tuple(self.interviewers))


class BookingsByRequest(GlobalSecondaryIndex["BookingItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "ByRequest"
        projection = AllProjection()

    request_id = UnicodeAttribute(hash_key=True)
    booked_at = UnicodeAttribute(range_key=True)


class BookingsByStatus(GlobalSecondaryIndex["BookingItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "ByStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    start = UnicodeAttribute(range_key=True)


class BookingItem(_Base):
    TABLE_ENV = "BOOKINGS_TABLE"
    by_request = BookingsByRequest()
    by_status = BookingsByStatus()
    booking_id = UnicodeAttribute(hash_key=True)
    request_id = UnicodeAttribute()
    slot_id = UnicodeAttribute()
    candidate_ref = UnicodeAttribute()
    role_id = UnicodeAttribute()
    mode = UnicodeAttribute()
    start = UnicodeAttribute()
    end = UnicodeAttribute()
    interviewers = _str_list()
    status = UnicodeAttribute()  # confirmed | cancelled
    sequence = NumberAttribute(default=0)
    guard_key = UnicodeAttribute()
    blocks = _str_list()  # "<pk>|<sk>" of the interviewer block locks this booking owns
    events = JSONAttribute(default=dict)  # interviewer id -> calendar event id
    booked_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    cancelled_at = UnicodeAttribute(null=True)
    cancelled_by = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    reminded = BooleanAttribute(default=False)
    feedback_nudged = BooleanAttribute(default=False)


class LocksByKind(GlobalSecondaryIndex["LockItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "ByKind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    held_until = NumberAttribute(range_key=True)


class LockItem(_Base):
    TABLE_ENV = "SCHEDULING_LOCKS_TABLE"
    by_kind = LocksByKind()
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    owner = UnicodeAttribute()
    state = UnicodeAttribute()  # held | booked | guard | hold
    held_until = NumberAttribute(null=True)  # epoch ms, for holds
    kind = UnicodeAttribute(null=True)  # "hold" on hold records only (sparse index)
    request_id = UnicodeAttribute(null=True)
    slot_id = UnicodeAttribute(null=True)
    blocks = _str_list()
    events = JSONAttribute(default=dict)
    expires_at = NumberAttribute()


class FeedbackItem(_Base):
    TABLE_ENV = "FEEDBACK_TABLE"
    booking_id = UnicodeAttribute(hash_key=True)
    interviewer_id = UnicodeAttribute(range_key=True)
    request_id = UnicodeAttribute()
    role_id = UnicodeAttribute()
    recommendation = UnicodeAttribute()
    rating = NumberAttribute(null=True)
    notes = UnicodeAttribute(default="")
    submitted_at = UnicodeAttribute()


# -- keys -----------------------------------------------------------------------------------------------

GUARD_SK = "guard"
HOLD_SK = "hold"


def block_keys(slot: Slot, buffer_minutes: int) -> list[str]:
    """`iv#<interviewer>|<block>` for every interviewer of `slot` and every block it occupies."""
    blocks = lock_blocks(slot.start, slot.end, buffer_minutes)
    return [f"iv#{iv}|{block}" for iv in slot.interviewers for block in blocks]


def _split(key: str) -> tuple[str, str]:
    pk, _, sk = key.rpartition("|")
    return pk, sk


def _floor_block(moment: datetime) -> str:
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    return (moment - timedelta(minutes=moment.minute % 15)).strftime("%Y-%m-%dT%H:%MZ")


def hold_owner(request_id: str) -> str:
    return f"hold:{request_id}"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True, slots=True)
class Hold:
    request_id: str
    slot_id: str
    held_until_ms: int
    blocks: tuple[str, ...]
    events: dict[str, str]


@dataclass(frozen=True, slots=True)
class Moved:
    """A reschedule: the booking as it was and as it is now (same booking id, SEQUENCE one higher)."""

    before: BookingItem
    after: BookingItem




# -- the repository -------------------------------------------------------------------------------------


class SchedulingStore:
    """Reads and conditional writes of the scheduling tables; every method is safe under concurrency."""

    def __init__(self, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self._connection: Connection | None = None

    # models bound at first use, so env vars are read lazily
    @property
    def requests(self) -> type[InterviewRequestItem]:
        return bound(InterviewRequestItem)

    @property
    def slots_model(self) -> type[SlotItem]:
        return bound(SlotItem)

    @property
    def bookings(self) -> type[BookingItem]:
        return bound(BookingItem)

    @property
    def locks(self) -> type[LockItem]:
        return bound(LockItem)

    @property
    def feedback_model(self) -> type[FeedbackItem]:
        return bound(FeedbackItem)

    def _tx(self) -> TransactWrite:
        if self._connection is None:
            meta = self.bookings.Meta
            self._connection = Connection(region=getattr(meta, "region", None), host=getattr(meta, "host", None))
        return TransactWrite(connection=self._connection)

    def _commit(self, build: Callable[[TransactWrite], int]) -> None:
        """Run one transaction, retrying only DynamoDB's TransactionConflict (a concurrent transaction
        on the same items); a failed condition is final and raises `TransactWriteError`."""
        for attempt in range(TRANSACTION_ATTEMPTS):
            tx = self._tx()
            count = build(tx)
            if count > MAX_TRANSACTION_ITEMS:
                raise BadRequest("this interview touches too many calendar blocks for one transaction")
            try:
                with tx:
                    pass
                return
            except TransactWriteError as exc:
                codes = {r.code for r in exc.cancellation_reasons if r is not None}
                if "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes \
                        and attempt < TRANSACTION_ATTEMPTS - 1:
                    self._sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311 - jitter
                    continue
                raise

    # -- requests and slots ------------------------------------------------------------------------
    def create_request(self, request: InterviewRequest, *, candidate_email: str, created_by: str,
                       template_id: str, buffer_minutes: int, slots: Sequence[Slot], now: datetime) -> bool:
        """Store a new request and its offered slots; False when it already exists (a redelivered event)."""
        expires = _epoch(request.window_end + timedelta(days=RETENTION_DAYS))
        item = self.requests(
            request.request_id, candidate_ref=request.candidate_ref, system=request.system, role_id=request.role_id,
            panel=list(request.panel), panel_size=request.panel_size, duration_minutes=request.duration_minutes,
            mode=request.mode.value, window_start=iso(request.window_start), window_end=iso(request.window_end),
            candidate_tz=request.candidate_tz, candidate_email=candidate_email, stage=request.stage, status="open",
            created_at=iso(now), created_by=created_by, template_id=template_id, buffer_minutes=buffer_minutes,
            nudges_sent=0, expires_at=expires)
        try:
            item.save(condition=self.requests.request_id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        model = self.slots_model
        with model.batch_write() as batch:
            for slot in slots:
                batch.save(model(request.request_id, slot.slot_id, start=iso(slot.start), end=iso(slot.end),
                                 interviewers=list(slot.interviewers), expires_at=expires))
        return True

    def get_request(self, request_id: str) -> InterviewRequestItem:
        try:
            return self.requests.get(request_id, consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("this interview request does not exist") from exc

    def requests_with_status(self, status: str) -> list[InterviewRequestItem]:
        return list(self.requests.by_status.query(status))

    def requests_for_candidate(self, candidate_ref: str) -> list[InterviewRequestItem]:
        return list(self.requests.by_candidate.query(candidate_ref))

    def close_request(self, request_id: str, status: str) -> bool:
        """Close an unbooked request (cancelled before booking); False when it was not open any more."""
        model = self.requests
        try:
            model(request_id).update(actions=[model.status.set(status)], condition=model.status == "open")
            return True
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def clear_outcome(self, request_id: str, outcome: str, previous_status: str) -> None:
        """Undo `set_outcome` when syncing it failed, so a person can try again."""
        model = self.requests
        model(request_id).update(actions=[model.outcome.remove(), model.outcome_by.remove(),
                                          model.outcome_at.remove(), model.status.set(previous_status)],
                                 condition=model.outcome == outcome)

    def slots(self, request_id: str) -> list[SlotItem]:
        return list(self.slots_model.query(request_id, consistent_read=True))

    def get_slot(self, request_id: str, slot_id: str) -> SlotItem:
        try:
            return self.slots_model.get(request_id, slot_id, consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("this time is not offered for this interview") from exc

    def taken_blocks(self, interviewers: Iterable[str], start: datetime, end: datetime, now_ms: int,
                     mine: Iterable[str] = ()) -> dict[str, str]:
        """Blocks of these interviewers between `start` and `end` that someone else holds or booked: key -> owner."""
        ignore = set(mine)
        lo, hi = _floor_block(start), _floor_block(end)
        taken: dict[str, str] = {}
        for iv in set(interviewers):
            for lock in self.locks.query(f"iv#{iv}", self.locks.sk.between(lo, hi), consistent_read=True):
                live = lock.state == "booked" or (lock.state == "held" and (lock.held_until or 0) > now_ms)
                if live and lock.owner not in ignore:
                    taken[f"{lock.pk}|{lock.sk}"] = lock.owner
        return taken

    def interviewer_load(self, interviewers: Iterable[str], start: datetime, end: datetime) -> dict[str, int]:
        """Booked interviews per interviewer in [start, end) (for load-balancing suggestions)."""
        lo, hi = _floor_block(start), _floor_block(end)
        load: dict[str, int] = {}
        for iv in set(interviewers):
            owners = {lock.owner for lock in self.locks.query(f"iv#{iv}", self.locks.sk.between(lo, hi))
                      if lock.state == "booked"}
            load[iv] = len(owners)
        return load

    # -- holds ---------------------------------------------------------------------------------------
    def _free_or_mine(self, owner: str, now_ms: int) -> Condition:
        lock = self.locks
        expired_or_mine = (lock.held_until < now_ms) | (lock.owner == owner)
        free: Condition = lock.pk.does_not_exist() | ((lock.state == "held") & expired_or_mine)
        return free

    def get_hold(self, request_id: str) -> Hold | None:
        try:
            item = self.locks.get(f"hold#{request_id}", HOLD_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return Hold(request_id, str(item.slot_id), int(item.held_until or 0), tuple(item.blocks), dict(item.events))

    def hold(self, request: InterviewRequestItem, slot_id: str, *, buffer_minutes: int, now_ms: int,
             ttl_seconds: int, own_booking: BookingItem | None = None) -> Hold:
        """Hold `slot_id` for this request's candidate until now + ttl; `SlotTaken` when someone else has it.

        Re-holding (the same or another slot) replaces the candidate's previous hold. Blocks the candidate's
        own booking already owns (a reschedule to an overlapping time) are checked, not overwritten.
        """
        slot = self.get_slot(request.request_id, slot_id)
        owner = hold_owner(request.request_id)
        keys = block_keys(slot.to_slot(), buffer_minutes)
        own = set(own_booking.blocks) if own_booking is not None else set()
        until = now_ms + ttl_seconds * 1000
        expires = until // 1000 + 3600
        previous = self.get_hold(request.request_id)
        lock, slots = self.locks, self.slots_model

        def build(tx: TransactWrite) -> int:
            tx.condition_check(slots, request.request_id, slot_id,
                               condition=slots.request_id.exists() & slots.booking_id.does_not_exist())
            for key in keys:
                pk, sk = _split(key)
                if key in own:
                    assert own_booking is not None
                    tx.condition_check(lock, pk, sk, condition=lock.owner == own_booking.booking_id)
                else:
                    tx.save(lock(pk, sk, owner=owner, state="held", held_until=until, expires_at=expires),
                            condition=self._free_or_mine(owner, now_ms))
            tx.save(lock(f"hold#{request.request_id}", HOLD_SK, owner=owner, state="hold", kind="hold",
                         held_until=until, request_id=request.request_id, slot_id=slot_id, blocks=keys, events={},
                         expires_at=expires))
            return len(keys) + 2

        try:
            self._commit(build)
        except TransactWriteError as exc:
            raise SlotTaken("this time was just taken; please choose another") from exc
        if previous is not None:
            self._release_blocks([k for k in previous.blocks if k not in keys], owner)
        return Hold(request.request_id, slot_id, until, tuple(keys), {})

    def set_hold_events(self, request_id: str, held_until_ms: int, events: dict[str, str]) -> None:
        lock = self.locks
        try:
            lock(f"hold#{request_id}", HOLD_SK).update(actions=[lock.events.set(events)],
                                                       condition=lock.held_until == held_until_ms)
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def _release_blocks(self, keys: Iterable[str], owner: str) -> None:
        lock = self.locks
        for key in keys:
            pk, sk = _split(key)
            try:
                lock(pk, sk).delete(condition=(lock.owner == owner) & (lock.state == "held"))
            except Exception as exc:  # noqa: BLE001 - a block someone else now holds is theirs to keep
                if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                    raise

    def release_hold(self, request_id: str, held_until_ms: int | None = None) -> Hold | None:
        """Drop the candidate's hold (all of it, or only if it is still the one ending at `held_until_ms`)."""
        hold = self.get_hold(request_id)
        if hold is None or (held_until_ms is not None and hold.held_until_ms != held_until_ms):
            return None
        lock = self.locks
        try:
            lock(f"hold#{request_id}", HOLD_SK).delete(condition=lock.held_until == hold.held_until_ms)
        except Exception as exc:  # noqa: BLE001
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                return None  # renewed or consumed meanwhile
            raise
        self._release_blocks(hold.blocks, hold_owner(request_id))
        return hold

    def expired_holds(self, now_ms: int) -> list[Hold]:
        return [Hold(str(i.request_id), str(i.slot_id), int(i.held_until or 0), tuple(i.blocks), dict(i.events))
                for i in self.locks.by_kind.query("hold", self.locks.held_until < now_ms)]

    # -- bookings ------------------------------------------------------------------------------------
    def get_booking(self, booking_id: str) -> BookingItem:
        try:
            return self.bookings.get(booking_id, consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("this booking does not exist") from exc

    def bookings_for(self, request_id: str) -> list[BookingItem]:
        return list(self.bookings.by_request.query(request_id))

    def bookings_with_status(self, status: str, start_from: datetime, start_to: datetime) -> list[BookingItem]:
        return list(self.bookings.by_status.query(status, self.bookings.start.between(iso(start_from),
                                                                                        iso(start_to))))

    def book(self, request: InterviewRequestItem, slot_id: str, booking_id: str, *, buffer_minutes: int,
             now: datetime) -> BookingItem:
        """Book `slot_id` for the request's candidate in one transaction; `SlotTaken` / `AlreadyBooked` when not."""
        slot = self.get_slot(request.request_id, slot_id).to_slot()
        req = request.to_request()
        keys = block_keys(slot, buffer_minutes)
        owner = hold_owner(request.request_id)
        now_ms = int(now.timestamp() * 1000)
        stamp = iso(now)
        lock, slots, bookings, requests = self.locks, self.slots_model, self.bookings, self.requests
        booking = bookings(booking_id, request_id=request.request_id, slot_id=slot_id,
                           candidate_ref=request.candidate_ref, role_id=request.role_id, mode=request.mode,
                           start=iso(slot.start), end=iso(slot.end), interviewers=list(slot.interviewers),
                           status="confirmed", sequence=0, guard_key=req.guard_key, blocks=keys, events={},
                           booked_at=stamp, updated_at=stamp)
        block_expiry = _epoch(slot.end) + 7 * 86400
        previous = self.get_hold(request.request_id)

        def build(tx: TransactWrite) -> int:
            tx.save(booking, condition=bookings.booking_id.does_not_exist())
            tx.update(slots(request.request_id, slot_id), actions=[slots.booking_id.set(booking_id)],
                      condition=slots.request_id.exists() & slots.booking_id.does_not_exist())
            tx.update(requests(request.request_id),
                      actions=[requests.status.set("booked"), requests.booking_id.set(booking_id)],
                      condition=requests.status == "open")
            tx.save(lock(req.guard_key, GUARD_SK, owner=booking_id, state="guard",
                         expires_at=_epoch(slot.end) + RETENTION_DAYS * 86400),
                    condition=lock.pk.does_not_exist())
            for key in keys:
                pk, sk = _split(key)
                tx.save(lock(pk, sk, owner=booking_id, state="booked", expires_at=block_expiry),
                        condition=self._free_or_mine(owner, now_ms))
            tx.delete(lock(f"hold#{request.request_id}", HOLD_SK))
            return len(keys) + 5

        try:
            self._commit(build)
        except TransactWriteError as exc:
            raise self._why_not(request, req.guard_key) from exc
        if previous is not None:
            self._release_blocks([k for k in previous.blocks if k not in keys], owner)
        return booking

    def _why_not(self, request: InterviewRequestItem, guard_key: str) -> Conflict:
        try:
            self.locks.get(guard_key, GUARD_SK, consistent_read=True)
            return AlreadyBooked("an interview is already booked for this role")
        except DoesNotExist:
            pass
        current = self.get_request(request.request_id)
        if current.status != "open":
            return AlreadyBooked("this interview is already booked or closed")
        return SlotTaken("this time was just taken; please choose another")

    def cancel(self, booking_id: str, *, by: str, reason: str, now: datetime) -> BookingItem:
        """Cancel in one transaction: booking cancelled, slot freed, guard and interviewer blocks removed."""
        booking = self.get_booking(booking_id)
        if booking.status != "confirmed":
            raise Conflict("this interview is already cancelled")
        lock, slots, bookings, requests = self.locks, self.slots_model, self.bookings, self.requests
        stamp = iso(now)

        def build(tx: TransactWrite) -> int:
            tx.update(bookings(booking_id), actions=[
                bookings.status.set("cancelled"), bookings.cancelled_at.set(stamp), bookings.cancelled_by.set(by),
                bookings.cancel_reason.set(reason), bookings.updated_at.set(stamp)],
                condition=(bookings.status == "confirmed") & (bookings.sequence == booking.sequence))
            tx.update(slots(booking.request_id, booking.slot_id), actions=[slots.booking_id.remove()],
                      condition=slots.booking_id == booking_id)
            tx.update(requests(booking.request_id), actions=[requests.status.set("cancelled")],
                      condition=requests.booking_id == booking_id)
            tx.delete(lock(booking.guard_key, GUARD_SK), condition=lock.owner == booking_id)
            for key in booking.blocks:
                pk, sk = _split(key)
                tx.delete(lock(pk, sk), condition=lock.owner == booking_id)
            return len(booking.blocks) + 4

        try:
            self._commit(build)
        except TransactWriteError as exc:
            raise Conflict("this interview changed meanwhile; reload and try again") from exc
        return self.get_booking(booking_id)

    def reschedule(self, booking_id: str, new_slot_id: str, *, buffer_minutes: int, now: datetime) -> Moved:
        """Move a booking to another slot of its request in one transaction (the booking id stays)."""
        before = self.get_booking(booking_id)
        if before.status != "confirmed":
            raise Conflict("this interview is cancelled; it cannot be moved")
        if before.slot_id == new_slot_id:
            raise BadRequest("that is the time already booked")
        slot = self.get_slot(before.request_id, new_slot_id).to_slot()
        old_keys, new_keys = set(before.blocks), block_keys(slot, buffer_minutes)
        owner = hold_owner(before.request_id)
        now_ms = int(now.timestamp() * 1000)
        stamp = iso(now)
        lock, slots, bookings = self.locks, self.slots_model, self.bookings
        block_expiry = _epoch(slot.end) + 7 * 86400
        previous = self.get_hold(before.request_id)

        def build(tx: TransactWrite) -> int:
            tx.update(bookings(booking_id), actions=[
                bookings.slot_id.set(new_slot_id), bookings.start.set(iso(slot.start)),
                bookings.end.set(iso(slot.end)), bookings.interviewers.set(list(slot.interviewers)),
                bookings.blocks.set(new_keys), bookings.sequence.set(int(before.sequence) + 1),
                bookings.updated_at.set(stamp), bookings.reminded.set(False), bookings.events.set({})],
                condition=(bookings.status == "confirmed") & (bookings.slot_id == before.slot_id)
                & (bookings.sequence == before.sequence))
            tx.update(slots(before.request_id, before.slot_id), actions=[slots.booking_id.remove()],
                      condition=slots.booking_id == booking_id)
            tx.update(slots(before.request_id, new_slot_id), actions=[slots.booking_id.set(booking_id)],
                      condition=slots.request_id.exists() & slots.booking_id.does_not_exist())
            tx.condition_check(lock, before.guard_key, GUARD_SK, condition=lock.owner == booking_id)
            for key in old_keys.difference(new_keys):
                pk, sk = _split(key)
                tx.delete(lock(pk, sk), condition=lock.owner == booking_id)
            for key in new_keys:
                pk, sk = _split(key)
                if key in old_keys:
                    tx.update(lock(pk, sk), actions=[lock.expires_at.set(block_expiry)],
                              condition=lock.owner == booking_id)
                else:
                    tx.save(lock(pk, sk, owner=booking_id, state="booked", expires_at=block_expiry),
                            condition=self._free_or_mine(owner, now_ms))
            tx.delete(lock(f"hold#{before.request_id}", HOLD_SK))
            return len(old_keys | set(new_keys)) + 5

        try:
            self._commit(build)
        except TransactWriteError as exc:
            raise SlotTaken("this time was just taken, or the interview changed meanwhile") from exc
        if previous is not None:
            self._release_blocks([k for k in previous.blocks if k not in new_keys], owner)
        return Moved(before, self.get_booking(booking_id))

    def set_booking_events(self, booking_id: str, sequence: int, events: dict[str, str]) -> None:
        model = self.bookings
        try:
            model(booking_id).update(actions=[model.events.set(events)], condition=model.sequence == sequence)
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def claim_flag(self, booking_id: str, flag: str, sequence: int) -> bool:
        """Set `reminded` / `feedback_nudged` once; True for the one caller that set it (send exactly once)."""
        model = self.bookings
        attr = {"reminded": model.reminded, "feedback_nudged": model.feedback_nudged}[flag]
        try:
            model(booking_id).update(actions=[attr.set(True)], condition=(attr == False)  # noqa: E712
                                     & (model.status == "confirmed") & (model.sequence == sequence))
            return True
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def claim_nudge(self, request_id: str, sent_so_far: int, now: datetime) -> bool:
        """Count one more nudge for an unbooked request if nobody counted it first."""
        model = self.requests
        try:
            model(request_id).update(actions=[model.nudges_sent.set(sent_so_far + 1),
                                              model.last_nudge_at.set(iso(now))],
                                     condition=(model.nudges_sent == sent_so_far) & (model.status == "open"))
            return True
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def set_outcome(self, request_id: str, outcome: str, by: str, now: datetime) -> InterviewRequestItem:
        """Record a person's outcome once (a second, different outcome is a `Conflict`)."""
        model = self.requests
        try:
            model(request_id).update(actions=[model.outcome.set(outcome), model.outcome_by.set(by),
                                              model.outcome_at.set(iso(now)), model.status.set("closed")],
                                     condition=model.request_id.exists() & model.outcome.does_not_exist())
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict("an outcome is already recorded for this interview") from exc
            raise
        return self.get_request(request_id)

    # -- feedback ------------------------------------------------------------------------------------
    def put_feedback(self, booking: BookingItem, interviewer_id: str, recommendation: str, rating: int | None,
                     notes: str, now: datetime) -> FeedbackItem:
        model = self.feedback_model
        item = model(booking.booking_id, interviewer_id, request_id=booking.request_id, role_id=booking.role_id,
                     recommendation=recommendation, rating=rating, notes=notes, submitted_at=iso(now))
        try:
            item.save(condition=model.booking_id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict("your feedback for this interview is already recorded") from exc
            raise
        return item

    def feedback(self, booking_id: str) -> list[FeedbackItem]:
        return list(self.feedback_model.query(booking_id, consistent_read=True))


def utc_ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


def as_dict(item: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.get_attributes()}
