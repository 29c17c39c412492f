"""Lock keys: how scheduling names the rows of the locks table. Pure; no I/O.

A key is `<pk>|<sk>`:

- a *block*, `iv#<interviewer>|2026-03-27T08:00Z`: one interviewer, one quarter hour that an interview and
  its trailing buffer occupy (`slots.lock_blocks`). Two bookings of one interviewer conflict exactly when
  they share a block. A hold owns its blocks as `hold:<request>`, a booking by its booking id.
- a *booking guard*, `<guard key>|guard`: one confirmed booking per candidate and role, for every interview
  kind (`slots.guard_key_for`); its owner is the booking.
- a *request guard*, `<request guard key>|guard`: one current interview request per candidate and role
  (`slots.request_guard_key_for`); its owner is the request, and a new request takes it over from one that
  is no longer open (or supersedes the open one in the same transaction).
- a *hold record*, `hold#<request>|hold`: the candidate's current hold, which the sweeper finds when it expires.

The repository (`foureyes.store.scheduling.SchedulingStore`) is handed this module as its `LockKeys`: it
writes the rows these functions name and knows nothing else about them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

from foureyes.scheduling.slots import QUANTUM_MINUTES, guard_key_for, lock_blocks, request_guard_key_for

GUARD_SK: Final = "guard"
HOLD_SK: Final = "hold"


def interviewer_pk(interviewer: str) -> str:
    """The partition holding one interviewer's blocks."""
    return f"iv#{interviewer}"


def block_keys(start: datetime, end: datetime, interviewers: Iterable[str], buffer_minutes: int) -> list[str]:
    """`iv#<interviewer>|<block>` for every interviewer of an interview and every block it occupies."""
    blocks = lock_blocks(start, end, buffer_minutes)
    return [f"{interviewer_pk(iv)}|{block}" for iv in interviewers for block in blocks]


def split(key: str) -> tuple[str, str]:
    """`<pk>|<sk>` -> (pk, sk)."""
    pk, _, sk = key.rpartition("|")
    return pk, sk


def floor_block(moment: datetime) -> str:
    """The block `moment` falls in (the sort key of a block row)."""
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    return (moment - timedelta(minutes=moment.minute % QUANTUM_MINUTES)).strftime("%Y-%m-%dT%H:%MZ")


def hold_owner(request_id: str) -> str:
    """The owner of the blocks a request's hold puts."""
    return f"hold:{request_id}"


def hold_pk(request_id: str) -> str:
    """The partition of a request's hold record (its sort key is `HOLD_SK`)."""
    return f"hold#{request_id}"


def guard_key(candidate_ref: str, role_id: str) -> str:
    """The partition of the guard a booking for this candidate and role takes (its sort key is `GUARD_SK`)."""
    return guard_key_for(candidate_ref, role_id)


def request_guard_key(candidate_ref: str, role_id: str) -> str:
    """The partition of the guard naming the candidate's current request for the role (sort key `GUARD_SK`)."""
    return request_guard_key_for(candidate_ref, role_id)
