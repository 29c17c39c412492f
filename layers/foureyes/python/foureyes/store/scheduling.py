"""The scheduling repository: reads and conditional writes of interview requests, offered slots, bookings,
locks and feedback (models in `scheduling_models`).

No double booking comes from conditional writes inside one `TransactWriteItems` per step:

- a new request puts the request and takes the candidate's *request guard* for the role (it must not exist,
  or still name the request it named when read); the candidate's open request for the role, if any, is
  marked `superseded` in the same transaction, and no request opens while the *booking guard* exists. One
  current request per candidate and role.
- a booking writes the booking, marks its slot (`booking_id` must be absent), puts the candidate's *booking
  guard* for the role (it must not exist) and one *block* lock per interviewer per quarter hour the interview
  and its trailing buffer occupy (it must be absent, or a hold that expired or is this candidate's own). One
  slot, one candidate; one confirmed booking per candidate and role, whatever the interview kind; and no
  interviewer in two interviews at once, across candidates and requests. Nothing is booked in the past.
- a hold puts the same blocks as `held` with `held_until` (epoch ms), plus a hold record that the sweeper
  finds through the sparse `ByKind` index when it expires.
- cancelling deletes the guard and the blocks and frees the slot in one transaction; rescheduling
  moves the booking (same booking id, SEQUENCE + 1) from one slot to another in one transaction, never once
  the interview has started and never into the past.
- an outcome is recorded only on a request whose booking stands (status `booked`).

Retention (`expires_at`, DynamoDB TTL): a request and its slots are kept the scheduling retention after their
window closes; a booking that after its interview; a cancellation or an outcome moves the request's, the
booking's (and the feedback's) expiry to the retention after that moment. A live booking therefore never expires
before its interview and its outcome. Readers treat an item past its `expires_at` as gone (TTL deletes late).

How those lock rows are named is scheduling's rule (`foureyes.scheduling.locks`), handed in as `LockKeys`;
what is stored comes in as plain values (see `scheduling_values`) and goes out as the items.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from functools import partial

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from foureyes import retention
from foureyes.errors import N_, AlreadyBooked, BadRequest, Conflict, NotFound, SlotTaken
from foureyes.model import iso, parse_iso
from foureyes.retention import Kept
from foureyes.store.conditional import conditional
from foureyes.store.models import bound
from foureyes.store.scheduling_models import BookingItem, FeedbackItem, InterviewRequestItem, LockItem, SlotItem
from foureyes.store.scheduling_values import (
    Hold,
    LockKeys,
    Moved,
    NewRequest,
    NewSlot,
    Opened,
    RequestRef,
    check_ahead,
    check_move,
)
from foureyes.store.sealed import PLAIN, FieldCodec

MAX_TRANSACTION_ITEMS = 100
TRANSACTION_ATTEMPTS = 6


def _wall_clock() -> datetime:
    return datetime.now(UTC)


EMAIL_FIELD = "candidate_email"
NOTES_FIELD = "feedback_notes"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _hold_of(item: LockItem) -> Hold:
    return Hold(str(item.request_id), str(item.slot_id), int(item.held_until or 0), tuple(item.blocks),
                dict(item.events))


class SchedulingStore:
    """Reads and conditional writes of the scheduling tables; every method is safe under concurrency."""

    def __init__(self, keys: LockKeys, *, sleep: Callable[[float], None] = time.sleep,
                 codec: FieldCodec = PLAIN, retention_days: int | None = None,
                 clock: Callable[[], datetime] = _wall_clock) -> None:
        self._keys = keys
        self._sleep = sleep
        self._codec = codec  # the candidate's e-mail address and interviewers' notes are stored sealed
        self._connection: Connection | None = None
        self._retention_days = retention_days
        self._clock = clock  # what "expired" is measured against (the flows' clock)

    def _gone(self, item: InterviewRequestItem | BookingItem) -> bool:
        """Past its retention: gone, whether or not TTL has deleted it yet."""
        return retention.expired(item.expires_at, self._clock())

    @property
    def retention_days(self) -> int:
        """The scheduling retention (the template's SchedulingRetentionDays), read at first use."""
        if self._retention_days is None:
            self._retention_days = retention.days(Kept.SCHEDULING)
        return self._retention_days

    def _kept_from(self, moment: datetime) -> int:
        return retention.after(moment, self.retention_days)

    def _opened(self, item: InterviewRequestItem) -> InterviewRequestItem:
        """The request as read, its candidate's address opened (in memory only: read items are never saved)."""
        item.candidate_email = self._codec.open(item.candidate_ref, EMAIL_FIELD, item.candidate_email) or ""
        return item

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

    def _slot_blocks(self, slot: SlotItem, buffer_minutes: int) -> list[str]:
        return self._keys.block_keys(parse_iso(slot.start), parse_iso(slot.end), slot.interviewers, buffer_minutes)

    # -- requests and slots ------------------------------------------------------------------------
    def create_request(self, request: NewRequest, *, candidate_email: str, created_by: str,
                       template_id: str, buffer_minutes: int, slots: Sequence[NewSlot], now: datetime,
                       status: str = "open") -> Opened:
        """Store a new request and its offered slots as the candidate's current request for the role.

        In one transaction: the request (it must not exist: a redelivered event changes nothing), the request
        guard for the candidate and role (taken over from the request it named when read), the candidate's
        open request for the role marked `superseded`, and a check that no confirmed booking holds the booking
        guard (then nothing is stored: `refused_by` names the booking). A request stored with another status
        (`undeliverable`) is a record only: it takes no guard and supersedes nothing.
        """
        expires = self._kept_from(request.window_end)
        model, lock = self.requests, self.locks
        item = model(
            request.request_id, candidate_ref=request.candidate_ref, system=request.system, role_id=request.role_id,
            panel=list(request.panel), panel_size=request.panel_size, duration_minutes=request.duration_minutes,
            mode=str(request.mode), window_start=iso(request.window_start), window_end=iso(request.window_end),
            candidate_tz=request.candidate_tz, candidate_language=request.candidate_language, stage=request.stage,
            status=status,
            candidate_email=self._codec.seal(request.candidate_ref, EMAIL_FIELD, candidate_email),
            created_at=iso(now), created_by=created_by, template_id=template_id, buffer_minutes=buffer_minutes,
            nudges_sent=0, expires_at=expires)
        if status != "open":
            if not conditional(lambda: item.save(condition=model.request_id.does_not_exist())):
                return Opened(False)
            self._save_slots(request.request_id, slots, expires)
            return Opened(True)
        guard_pk = self._keys.request_guard_key(request.candidate_ref, request.role_id)
        booking_guard = self._keys.guard_key(request.candidate_ref, request.role_id)
        for _ in range(TRANSACTION_ATTEMPTS):
            current = self._lock(guard_pk)
            named = str(current.owner) if current is not None else ""
            if named == request.request_id:
                return Opened(False)  # stored before: a redelivered event
            supersede = bool(named) and self._status_of(named) == "open"
            guard = lock(guard_pk, self._keys.GUARD_SK, owner=request.request_id, state="request",
                         request_id=request.request_id, expires_at=expires)

            def build(tx: TransactWrite, named: str = named, supersede: bool = supersede,
                      guard: LockItem = guard) -> int:
                tx.save(item, condition=model.request_id.does_not_exist())
                tx.save(guard, condition=lock.pk.does_not_exist() if not named else lock.owner == named)
                tx.condition_check(lock, booking_guard, self._keys.GUARD_SK, condition=lock.pk.does_not_exist())
                if supersede:
                    tx.update(model(named), actions=[model.status.set("superseded"),
                                                     model.superseded_by.set(request.request_id)],
                              condition=model.status == "open")
                return 4

            try:
                self._commit(build)
            except TransactWriteError:
                if self._status_of(request.request_id):
                    return Opened(False)
                booked = self._lock(booking_guard)
                if booked is not None:
                    return Opened(False, refused_by=str(booked.owner))
                continue  # the guard or the request it named changed meanwhile: read again
            self._save_slots(request.request_id, slots, expires)
            return Opened(True, superseded=named if supersede else "")
        raise Conflict("this candidate's interview requests for the role kept changing; try again")

    def _save_slots(self, request_id: str, slots: Sequence[NewSlot], expires: int) -> None:
        slot_model = self.slots_model
        with slot_model.batch_write() as batch:
            for slot in slots:
                batch.save(slot_model(request_id, slot.slot_id, start=iso(slot.start), end=iso(slot.end),
                                      interviewers=list(slot.interviewers), expires_at=expires))

    def _lock(self, pk: str) -> LockItem | None:
        """The guard row `pk` (sort key `GUARD_SK`), or None."""
        try:
            return self.locks.get(pk, self._keys.GUARD_SK, consistent_read=True)
        except DoesNotExist:
            return None

    def _status_of(self, request_id: str) -> str:
        """A request's status; "" when it does not exist."""
        try:
            return str(self.requests.get(request_id, consistent_read=True).status)
        except DoesNotExist:
            return ""

    def get_request(self, request_id: str) -> InterviewRequestItem:
        try:
            item = self.requests.get(request_id, consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound(N_("this interview request does not exist")) from exc
        if self._gone(item):
            raise NotFound(N_("this interview request does not exist any more"))
        return self._opened(item)

    def requests_with_status(self, status: str) -> list[InterviewRequestItem]:
        return [self._opened(item) for item in self.requests.by_status.query(status)]

    def requests_for_candidate(self, candidate_ref: str) -> list[InterviewRequestItem]:
        return [self._opened(item) for item in self.requests.by_candidate.query(candidate_ref)]

    def close_request(self, request_id: str, status: str) -> bool:
        """Close an unbooked request (cancelled before booking); False when it was not open any more. It is kept
        the retention from now."""
        model = self.requests
        expires = self._kept_from(self._clock())
        return conditional(lambda: model(request_id).update(
            actions=[model.status.set(status), model.expires_at.set(expires)], condition=model.status == "open"))

    def reopen_request(self, request_id: str, booking_id: str, *, nudges_sent: int) -> bool:
        """Open a request again after its candidate cancelled `booking_id` (so they can book a new time while the
        window is open); it keeps naming the cancelled booking until a new one is made (an outcome is refused as
        "cancelled"); `nudges_sent` stops reminders to choose a time. False when it changed meanwhile."""
        model = self.requests
        current = self.get_request(request_id)  # its expiry stays the retention after the cancellation
        return conditional(lambda: model(request_id).update(
            actions=[model.status.set("open"), model.nudges_sent.set(max(int(current.nudges_sent), nudges_sent))],
            condition=(model.status == "cancelled") & (model.booking_id == booking_id)))

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
        lo, hi = self._keys.floor_block(start), self._keys.floor_block(end)
        taken: dict[str, str] = {}
        for iv in set(interviewers):
            for lock in self.locks.query(self._keys.interviewer_pk(iv), self.locks.sk.between(lo, hi),
                                         consistent_read=True):
                live = lock.state == "booked" or (lock.state == "held" and (lock.held_until or 0) > now_ms)
                if live and lock.owner not in ignore:
                    taken[f"{lock.pk}|{lock.sk}"] = lock.owner
        return taken

    def interviewer_load(self, interviewers: Iterable[str], start: datetime, end: datetime) -> dict[str, int]:
        """Booked interviews per interviewer in [start, end) (for load-balancing suggestions)."""
        lo, hi = self._keys.floor_block(start), self._keys.floor_block(end)
        load: dict[str, int] = {}
        for iv in set(interviewers):
            owners = {lock.owner for lock in self.locks.query(self._keys.interviewer_pk(iv),
                                                              self.locks.sk.between(lo, hi))
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
            item = self.locks.get(self._keys.hold_pk(request_id), self._keys.HOLD_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return Hold(request_id, str(item.slot_id), int(item.held_until or 0), tuple(item.blocks), dict(item.events))

    def hold(self, request_id: str, slot_id: str, *, buffer_minutes: int, now_ms: int, ttl_seconds: int,
             own_booking_id: str = "", own_blocks: Collection[str] = ()) -> Hold:
        """Hold `slot_id` for this request's candidate until now + ttl; `SlotTaken` when someone else has it.

        Re-holding (the same or another slot) replaces the candidate's previous hold. Blocks the candidate's
        own booking (`own_booking_id`) already owns, `own_blocks` (a reschedule to an overlapping time), are
        checked, not overwritten.
        """
        keys = self._slot_blocks(self.get_slot(request_id, slot_id), buffer_minutes)
        owner = self._keys.hold_owner(request_id)
        own = set(own_blocks)
        until = now_ms + ttl_seconds * 1000
        expires = until // 1000 + 3600
        previous = self.get_hold(request_id)
        lock, slots, requests, split = self.locks, self.slots_model, self.requests, self._keys.split

        def build(tx: TransactWrite) -> int:
            tx.condition_check(requests, request_id, condition=requests.status.is_in("open", "booked"))
            tx.condition_check(slots, request_id, slot_id,
                               condition=slots.request_id.exists() & slots.booking_id.does_not_exist())
            for key in keys:
                pk, sk = split(key)
                if key in own:
                    tx.condition_check(lock, pk, sk, condition=lock.owner == own_booking_id)
                else:
                    tx.save(lock(pk, sk, owner=owner, state="held", held_until=until, expires_at=expires),
                            condition=self._free_or_mine(owner, now_ms))
            tx.save(lock(self._keys.hold_pk(request_id), self._keys.HOLD_SK, owner=owner, state="hold", kind="hold",
                         held_until=until, request_id=request_id, slot_id=slot_id, blocks=keys, events={},
                         expires_at=expires))
            return len(keys) + 3

        try:
            self._commit(build)
        except TransactWriteError as exc:
            if self._status_of(request_id) not in ("open", "booked"):
                raise Conflict(N_("this invitation is no longer open")) from exc
            raise SlotTaken(N_("this time was just taken; please choose another")) from exc
        if previous is not None:
            self._release_blocks([k for k in previous.blocks if k not in keys], owner)
        return Hold(request_id, slot_id, until, tuple(keys), {})

    def set_hold_events(self, request_id: str, held_until_ms: int, events: dict[str, str]) -> None:
        lock = self.locks
        conditional(lambda: lock(self._keys.hold_pk(request_id), self._keys.HOLD_SK).update(
            actions=[lock.events.set(events)], condition=lock.held_until == held_until_ms))

    def _release_blocks(self, keys: Iterable[str], owner: str) -> None:
        lock = self.locks
        for key in keys:  # a block someone else holds by now is theirs to keep
            conditional(partial(lock(*self._keys.split(key)).delete,
                                condition=(lock.owner == owner) & (lock.state == "held")))

    def release_hold(self, request_id: str, held_until_ms: int | None = None) -> Hold | None:
        """Drop the candidate's hold (all of it, or only if it is still the one ending at `held_until_ms`)."""
        hold = self.get_hold(request_id)
        if hold is None or (held_until_ms is not None and hold.held_until_ms != held_until_ms):
            return None
        lock = self.locks
        if not conditional(lambda: lock(self._keys.hold_pk(request_id), self._keys.HOLD_SK).delete(
                condition=lock.held_until == hold.held_until_ms)):
            return None  # renewed or consumed meanwhile
        self._release_blocks(hold.blocks, self._keys.hold_owner(request_id))
        return hold

    def expired_holds(self, now_ms: int) -> list[Hold]:
        return [_hold_of(i) for i in self.locks.by_kind.query("hold", self.locks.held_until < now_ms)]

    # -- bookings ------------------------------------------------------------------------------------
    def get_booking(self, booking_id: str) -> BookingItem:
        try:
            item = self.bookings.get(booking_id, consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound(N_("this booking does not exist")) from exc
        if self._gone(item):
            raise NotFound(N_("this booking does not exist any more"))
        return item

    def bookings_for(self, request_id: str) -> list[BookingItem]:
        return list(self.bookings.by_request.query(request_id))

    def bookings_with_status(self, status: str, start_from: datetime, start_to: datetime) -> list[BookingItem]:
        return list(self.bookings.by_status.query(status, self.bookings.start.between(iso(start_from),
                                                                                        iso(start_to))))

    def book(self, request: RequestRef, slot_id: str, booking_id: str, *, buffer_minutes: int,
             now: datetime) -> BookingItem:
        """Book `slot_id` for the request's candidate in one transaction; `SlotTaken` / `AlreadyBooked` when not."""
        slot = self.get_slot(request.request_id, slot_id)
        check_ahead(slot, now)
        keys = self._slot_blocks(slot, buffer_minutes)
        guard_key = self._keys.guard_key(request.candidate_ref, request.role_id)
        owner = self._keys.hold_owner(request.request_id)
        now_ms = int(now.timestamp() * 1000)
        stamp = iso(now)
        lock, slots, bookings, requests = self.locks, self.slots_model, self.bookings, self.requests
        booking = bookings(booking_id, request_id=request.request_id, slot_id=slot_id,
                           candidate_ref=request.candidate_ref, role_id=request.role_id, mode=request.mode,
                           start=slot.start, end=slot.end, interviewers=list(slot.interviewers),
                           status="confirmed", sequence=0, guard_key=guard_key, blocks=keys, events={},
                           booked_at=stamp, updated_at=stamp, expires_at=self._kept_from(parse_iso(slot.end)))
        block_expiry = _epoch(parse_iso(slot.end)) + 7 * 86400
        previous = self.get_hold(request.request_id)
        split = self._keys.split

        def build(tx: TransactWrite) -> int:
            tx.save(booking, condition=bookings.booking_id.does_not_exist())
            tx.update(slots(request.request_id, slot_id), actions=[slots.booking_id.set(booking_id)],
                      condition=slots.request_id.exists() & slots.booking_id.does_not_exist())
            tx.update(requests(request.request_id),
                      actions=[requests.status.set("booked"), requests.booking_id.set(booking_id)],
                      condition=requests.status == "open")
            tx.save(lock(guard_key, self._keys.GUARD_SK, owner=booking_id, state="guard",
                         expires_at=self._kept_from(parse_iso(slot.end))),
                    condition=lock.pk.does_not_exist())
            for key in keys:
                pk, sk = split(key)
                tx.save(lock(pk, sk, owner=booking_id, state="booked", expires_at=block_expiry),
                        condition=self._free_or_mine(owner, now_ms))
            tx.delete(lock(self._keys.hold_pk(request.request_id), self._keys.HOLD_SK))
            return len(keys) + 5

        try:
            self._commit(build)
        except TransactWriteError as exc:
            raise self._why_not(request.request_id, guard_key) from exc
        if previous is not None:
            self._release_blocks([k for k in previous.blocks if k not in keys], owner)
        return booking

    def _why_not(self, request_id: str, guard_key: str) -> Conflict:
        if self._lock(guard_key) is not None:
            return AlreadyBooked(N_("an interview is already booked for this role"))
        current = self.get_request(request_id)
        if current.status == "superseded":
            return Conflict(N_("this invitation was replaced by a newer one; please use the link in the latest e-mail"))
        if current.status != "open":
            return AlreadyBooked(N_("this interview is already booked or closed"))
        return SlotTaken(N_("this time was just taken; please choose another"))

    def cancel(self, booking_id: str, *, by: str, reason: str, now: datetime) -> BookingItem:
        """Cancel in one transaction: booking cancelled, slot freed, guard and interviewer blocks removed."""
        booking = self.get_booking(booking_id)
        if booking.status != "confirmed":
            raise Conflict(N_("this interview is already cancelled"))
        lock, slots, bookings, requests = self.locks, self.slots_model, self.bookings, self.requests
        stamp = iso(now)
        expires = self._kept_from(now)  # kept the retention after the cancellation

        def build(tx: TransactWrite) -> int:
            tx.update(bookings(booking_id), actions=[
                bookings.status.set("cancelled"), bookings.cancelled_at.set(stamp), bookings.cancelled_by.set(by),
                bookings.cancel_reason.set(reason), bookings.updated_at.set(stamp), bookings.expires_at.set(expires)],
                condition=(bookings.status == "confirmed") & (bookings.sequence == booking.sequence))
            tx.update(slots(booking.request_id, booking.slot_id), actions=[slots.booking_id.remove()],
                      condition=slots.booking_id == booking_id)
            tx.update(requests(booking.request_id), actions=[requests.status.set("cancelled"),
                                                             requests.expires_at.set(expires)],
                      condition=requests.booking_id == booking_id)
            tx.delete(lock(booking.guard_key, self._keys.GUARD_SK), condition=lock.owner == booking_id)
            for key in booking.blocks:
                pk, sk = self._keys.split(key)
                tx.delete(lock(pk, sk), condition=lock.owner == booking_id)
            return len(booking.blocks) + 4

        try:
            self._commit(build)
        except TransactWriteError as exc:
            raise Conflict(N_("this interview changed meanwhile; reload and try again")) from exc
        return self.get_booking(booking_id)

    def reschedule(self, booking_id: str, new_slot_id: str, *, buffer_minutes: int, now: datetime) -> Moved:
        """Move a booking to another slot of its request in one transaction (the booking id stays)."""
        before = self.get_booking(booking_id)
        check_move(before, new_slot_id, now)
        slot = self.get_slot(before.request_id, new_slot_id)
        check_ahead(slot, now)
        old_keys, new_keys = set(before.blocks), self._slot_blocks(slot, buffer_minutes)
        owner = self._keys.hold_owner(before.request_id)
        now_ms = int(now.timestamp() * 1000)
        stamp = iso(now)
        lock, slots, bookings, split = self.locks, self.slots_model, self.bookings, self._keys.split
        block_expiry = _epoch(parse_iso(slot.end)) + 7 * 86400
        previous = self.get_hold(before.request_id)

        def build(tx: TransactWrite) -> int:
            tx.update(bookings(booking_id), actions=[
                bookings.slot_id.set(new_slot_id), bookings.start.set(slot.start),
                bookings.end.set(slot.end), bookings.interviewers.set(list(slot.interviewers)),
                bookings.blocks.set(new_keys), bookings.sequence.set(int(before.sequence) + 1),
                bookings.updated_at.set(stamp), bookings.reminded.set(False), bookings.events.set({}),
                bookings.expires_at.set(self._kept_from(parse_iso(slot.end)))],
                condition=(bookings.status == "confirmed") & (bookings.slot_id == before.slot_id)
                & (bookings.sequence == before.sequence) & (bookings.start > stamp))
            tx.update(slots(before.request_id, before.slot_id), actions=[slots.booking_id.remove()],
                      condition=slots.booking_id == booking_id)
            tx.update(slots(before.request_id, new_slot_id), actions=[slots.booking_id.set(booking_id)],
                      condition=slots.request_id.exists() & slots.booking_id.does_not_exist())
            tx.condition_check(lock, before.guard_key, self._keys.GUARD_SK, condition=lock.owner == booking_id)
            for key in old_keys.difference(new_keys):
                pk, sk = split(key)
                tx.delete(lock(pk, sk), condition=lock.owner == booking_id)
            for key in new_keys:
                pk, sk = split(key)
                if key in old_keys:
                    tx.update(lock(pk, sk), actions=[lock.expires_at.set(block_expiry)],
                              condition=lock.owner == booking_id)
                else:
                    tx.save(lock(pk, sk, owner=booking_id, state="booked", expires_at=block_expiry),
                            condition=self._free_or_mine(owner, now_ms))
            tx.delete(lock(self._keys.hold_pk(before.request_id), self._keys.HOLD_SK))
            return len(old_keys | set(new_keys)) + 5

        try:
            self._commit(build)
        except TransactWriteError as exc:
            raise SlotTaken(N_("this time was just taken, or the interview changed meanwhile")) from exc
        if previous is not None:
            self._release_blocks([k for k in previous.blocks if k not in new_keys], owner)
        return Moved(before, self.get_booking(booking_id))

    def set_booking_events(self, booking_id: str, sequence: int, events: dict[str, str]) -> None:
        model = self.bookings
        conditional(lambda: model(booking_id).update(actions=[model.events.set(events)],
                                                     condition=model.sequence == sequence))

    def claim_flag(self, booking_id: str, flag: str, sequence: int) -> bool:
        """Set `reminded` / `feedback_nudged` once; True for the one caller that set it (send exactly once)."""
        model = self.bookings
        attr = {"reminded": model.reminded, "feedback_nudged": model.feedback_nudged}[flag]
        return conditional(lambda: model(booking_id).update(
            actions=[attr.set(True)],
            condition=(attr == False) & (model.status == "confirmed") & (model.sequence == sequence)))  # noqa: E712

    def claim_nudge(self, request_id: str, sent_so_far: int, now: datetime) -> bool:
        """Count one more nudge for an unbooked request if nobody counted it first."""
        model = self.requests
        return conditional(lambda: model(request_id).update(
            actions=[model.nudges_sent.set(sent_so_far + 1), model.last_nudge_at.set(iso(now))],
            condition=(model.nudges_sent == sent_so_far) & (model.status == "open")))

    def set_outcome(self, request_id: str, outcome: str, by: str, now: datetime) -> InterviewRequestItem:
        """Record a person's outcome once, and only while the request's booking stands (status `booked`: not
        cancelled); a second outcome, or one for a request without a standing booking, is a `Conflict`."""
        model = self.requests
        expires = self._kept_from(now)  # the request, its booking and its feedback: the retention after the outcome
        if not conditional(lambda: model(request_id).update(
                actions=[model.outcome.set(outcome), model.outcome_by.set(by), model.outcome_at.set(iso(now)),
                         model.status.set("closed"), model.expires_at.set(expires)],
                condition=model.request_id.exists() & model.outcome.does_not_exist()
                & (model.status == "booked"))):
            if self.get_request(request_id).outcome:
                raise Conflict("an outcome is already recorded for this interview")
            raise Conflict("this interview was cancelled or never booked, so it has no outcome")
        closed = self.get_request(request_id)
        if closed.booking_id:
            self._keep_until(str(closed.booking_id), expires)
        return closed

    def _keep_until(self, booking_id: str, expires: int) -> None:
        """Move a booking's and its feedback's expiry to `expires` (only ever later)."""
        bookings, feedback = self.bookings, self.feedback_model
        conditional(lambda: bookings(booking_id).update(
            actions=[bookings.expires_at.set(expires)],
            condition=bookings.booking_id.exists() & (bookings.expires_at.does_not_exist()
                                                      | (bookings.expires_at < expires))))
        later = feedback.expires_at.does_not_exist() | (feedback.expires_at < expires)
        for item in feedback.query(booking_id, consistent_read=True):
            conditional(partial(feedback(item.booking_id, item.interviewer_id).update,
                                actions=[feedback.expires_at.set(expires)],
                                condition=feedback.booking_id.exists() & later))

    # -- feedback ------------------------------------------------------------------------------------
    def put_feedback(self, booking_id: str, interviewer_id: str, *, request_id: str, role_id: str,
                     recommendation: str, rating: int | None, notes: str, now: datetime,
                     replaces: str | None = None) -> FeedbackItem:
        """One interviewer's feedback on a booking: new (a second one is a `Conflict`), or, with `replaces` (the
        `submitted_at` of the entry it corrects), a correction of exactly that entry (else a `Conflict`)."""
        model = self.feedback_model
        sealed = self._codec.seal(self._candidate_of(request_id), NOTES_FIELD, notes) if notes else ""
        item = model(booking_id, interviewer_id, request_id=request_id, role_id=role_id,
                     recommendation=recommendation, rating=rating, notes=sealed, submitted_at=iso(now),
                     expires_at=self._kept_from(now))
        condition = model.booking_id.does_not_exist() if replaces is None else model.submitted_at == replaces
        if not conditional(lambda: item.save(condition=condition)):
            raise Conflict("your feedback for this interview is already recorded")
        item.notes = notes
        return item

    def feedback(self, booking_id: str) -> list[FeedbackItem]:
        items = list(self.feedback_model.query(booking_id, consistent_read=True))
        for item in items:
            if item.notes:
                item.notes = self._codec.open(self._candidate_of(item.request_id), NOTES_FIELD, item.notes) or ""
        return items

    def _candidate_of(self, request_id: str) -> str:
        """The candidate ref of a request (whose data key seals what is said about them); '' when it is gone."""
        try:
            return str(self.requests.get(request_id, consistent_read=True).candidate_ref)
        except DoesNotExist:
            return ""
