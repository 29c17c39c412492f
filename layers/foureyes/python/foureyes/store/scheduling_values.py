"""What the scheduling repository (`scheduling.SchedulingStore`) takes and gives besides its pynamodb items.

It takes the lock-key rules (`LockKeys`, implemented by the module `foureyes.scheduling.locks`) and new
requests and slots in any object of the right shape (`NewRequest`, `NewSlot`: scheduling's
`InterviewRequest` and `Slot`); it gives what opening a request did (`Opened`), holds (`Hold`) and
reschedules (`Moved`). The store never imports scheduling: the shapes are declared here, on the store's side.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from foureyes.errors import BadRequest, Conflict, SlotTaken
from foureyes.model import parse_iso
from foureyes.store.scheduling_models import BookingItem, SlotItem


class LockKeys(Protocol):
    """The names of the lock rows (keys are `<pk>|<sk>`); `foureyes.scheduling.locks` is the implementation."""

    @property
    def GUARD_SK(self) -> str: ...

    @property
    def HOLD_SK(self) -> str: ...

    def interviewer_pk(self, interviewer: str) -> str: ...

    def block_keys(self, start: datetime, end: datetime, interviewers: Iterable[str],
                   buffer_minutes: int) -> list[str]: ...

    def split(self, key: str) -> tuple[str, str]: ...

    def floor_block(self, moment: datetime) -> str: ...

    def hold_owner(self, request_id: str) -> str: ...

    def hold_pk(self, request_id: str) -> str: ...

    def guard_key(self, candidate_ref: str, role_id: str) -> str: ...

    def request_guard_key(self, candidate_ref: str, role_id: str) -> str: ...


class NewRequest(Protocol):
    """An interview request as `create_request` stores it (scheduling's `InterviewRequest`)."""

    @property
    def request_id(self) -> str: ...
    @property
    def candidate_ref(self) -> str: ...
    @property
    def system(self) -> str: ...
    @property
    def role_id(self) -> str: ...
    @property
    def panel(self) -> Sequence[str]: ...
    @property
    def panel_size(self) -> int: ...
    @property
    def duration_minutes(self) -> int: ...
    @property
    def mode(self) -> str: ...
    @property
    def window_start(self) -> datetime: ...
    @property
    def window_end(self) -> datetime: ...
    @property
    def candidate_tz(self) -> str: ...
    @property
    def stage(self) -> str: ...
    @property
    def candidate_language(self) -> str: ...


class NewSlot(Protocol):
    """An offered slot as `create_request` stores it (scheduling's `Slot`)."""

    @property
    def slot_id(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def interviewers(self) -> Sequence[str]: ...


class RequestRef(Protocol):
    """What booking reads of a stored request (an `InterviewRequestItem` is one)."""

    @property
    def request_id(self) -> str: ...
    @property
    def candidate_ref(self) -> str: ...
    @property
    def role_id(self) -> str: ...
    @property
    def mode(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Hold:
    request_id: str
    slot_id: str
    held_until_ms: int
    blocks: tuple[str, ...]
    events: dict[str, str]


@dataclass(frozen=True, slots=True)
class Opened:
    """What `create_request` did.

    `created`: the request is stored (False: it existed already, a redelivered event; or `refused_by` says why
    not). `superseded`: the candidate's open request for the role that the new one replaced in the same
    transaction (its status is `superseded` now). `refused_by`: the confirmed booking for this candidate and
    role that kept a second request from opening.
    """

    created: bool
    superseded: str = ""
    refused_by: str = ""


@dataclass(frozen=True, slots=True)
class Moved:
    """A reschedule: the booking as it was and as it is now (same booking id, SEQUENCE one higher)."""

    before: BookingItem
    after: BookingItem


def check_move(before: BookingItem, new_slot_id: str, now: datetime) -> None:
    """What every reschedule write requires of the booking, whatever store holds it: standing, not started,
    and moved to another time."""
    if before.status != "confirmed":
        raise Conflict("this interview is cancelled; it cannot be moved")
    if before.slot_id == new_slot_id:
        raise BadRequest("that is the time already booked")
    if parse_iso(before.start) <= now:
        raise Conflict("this interview has started; it cannot be moved")


def check_ahead(slot: SlotItem, now: datetime) -> None:
    """A booking or a move only to a time still ahead."""
    if parse_iso(slot.start) <= now:
        raise SlotTaken("this time has passed; please choose another")
