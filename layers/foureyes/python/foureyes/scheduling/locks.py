"""Lock keys: how scheduling names the rows of the locks table. Pure; no I/O.

A key is `<pk>|<sk>`:

- a *block*, `iv#<interviewer>|2026-03-27T08:00Z`: one interviewer, one quarter hour that an interview and
  its trailing buffer occupy (`slots.lock_blocks`). Two bookings of one interviewer conflict exactly when
  they share a block. A hold owns its blocks as `hold:<request>`, a booking by its booking id.
- a *guard*, `<guard key>|guard`: one booking per onsite day per candidate and role, one per request
  otherwise (`slots.guard_key_for`).
- a *hold record*, `hold#<request>|hold`: the candidate's current hold, which the sweeper finds when it expires.

The repository (`foureyes.store.scheduling.SchedulingStore`) is handed this module as its `LockKeys`: it
writes the rows these functions name and knows nothing else about them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

from foureyes.scheduling.slots import QUANTUM_MINUTES, guard_key_for, lock_blocks

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


def guard_key(request_id: str, candidate_ref: str, role_id: str, mode: str) -> str:
    """The partition of the guard a booking of this request takes (its sort key is `GUARD_SK`)."""
    return guard_key_for(request_id, candidate_ref, role_id, mode)
