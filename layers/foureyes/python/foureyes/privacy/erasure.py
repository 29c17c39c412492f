"""Erasure (GDPR Art. 17): a four-eyes proposal, then an executor that is not an ATS dispatcher.

`propose` stores an `erase_candidate` proposal naming the records (refs only) and starts the usual review: a
reviewer, a different approver, a team lead on disagreement. Once approved, the state machine routes it to the
erase function, which runs `execute`:

1. every record is marked as being erased in the data keys table: from then on ingest skips it;
2. what names it is deleted: its interview requests, slots, bookings, feedback, scheduling locks and the
   interviewers' calendar events, its match keys, near-misses naming it, and finally the candidate item;
3. proposals naming it are withdrawn while open (their review is stopped) and redacted (call, diff and
   reasoning become an "erased" marker that keeps the ids), and so are their dispatch records;
4. its data key is destroyed: whatever sealed copy remains anywhere (a stream record, a backup) is unreadable.
   The key item stays as the tombstone (ref and time only), so pulls and webhooks never import the record again.

Erasure writes nothing to an ATS, so shadow mode, the daily cap and the kill switch do not apply; the two
approvals do (checked again here, as the dispatcher checks them). It is irreversible: no rollback. Every step is
idempotent, so a retried or crashed executor finishes the job. The audit keeps ids and counts only.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from foureyes import audit
from foureyes.audit import Recorder
from foureyes.errors import BadRequest, Conflict, DispatchRefused, NotFound
from foureyes.model import Action
from foureyes.privacy.keys import KeyRing
from foureyes.privacy.records import default_ring
from foureyes.review import proposals
from foureyes.review.lifecycle import OPEN_STATUSES, ProposalStatus
from foureyes.review.people import Directory, load_directory
from foureyes.scheduling import locks
from foureyes.store.data_keys import DataKeys, DynamoDataKeys
from foureyes.store.erasure import RecordTables
from foureyes.store.match_index import DynamoMatchKeys, DynamoNearMisses

logger = Logger(child=True)

ERASURE_SYSTEM = "foureyes"  # an erasure is a write to Foureyes's own tables, never to an ATS
EXECUTOR = "eraser"
ERASED_TEXT = "[erased]"
MAX_ATTEMPTS = 100
MAX_REFS = 20
REF = re.compile(r"^[a-z][a-z0-9_-]{0,31}:[^\s:][^\s]{0,127}$")
# An erasure that ended in one of these erased nothing: it may be asked again.
ENDED_WITHOUT_EFFECT = frozenset({ProposalStatus.REJECTED, ProposalStatus.EXPIRED, ProposalStatus.FAILED,
                                  ProposalStatus.WITHDRAWN})


class Calendar(Protocol):
    def delete(self, interviewer: str, event_id: str) -> None: ...


@dataclass(frozen=True)
class Deps:
    proposals: proposals.Deps
    tables: RecordTables
    data_keys: DataKeys
    ring: KeyRing
    match_keys: DynamoMatchKeys
    near_misses: DynamoNearMisses
    calendar: Calendar
    directory: Callable[[], Directory]
    stop_review: Callable[[str], None]
    audit: Recorder
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def _stop_review(execution_arn: str) -> None:
    import boto3

    client = boto3.client("stepfunctions")
    try:
        client.stop_execution(executionArn=execution_arn, error="Foureyes.Withdrawn",
                              cause="A record this proposal names was erased.")
    except client.exceptions.ExecutionDoesNotExist:
        pass


@cache
def default_deps() -> Deps:
    from foureyes.scheduling.calendar import ConfiguredCalendar

    return Deps(proposals.default_deps(), RecordTables(), DynamoDataKeys(), default_ring(), DynamoMatchKeys(),
                DynamoNearMisses(), ConfiguredCalendar(), load_directory, _stop_review, audit.default())


def _now(deps: Deps) -> str:
    return deps.clock().isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------------- proposing
def check_refs(refs: Iterable[str]) -> list[str]:
    """The refs, checked (`system:record_id`) and without repeats, in order; `BadRequest` naming a bad one."""
    out: list[str] = []
    for ref in refs:
        ref = ref.strip()
        if not REF.match(ref):
            raise BadRequest(f"REF {ref!r} is not a record ref (system:record_id)")
        if ref not in out:
            out.append(ref)
    if not out:
        raise BadRequest("name at least one REF to erase")
    if len(out) > MAX_REFS:
        raise BadRequest(f"at most {MAX_REFS} REFs in one erasure")
    return out


def erasure_id(refs: Sequence[str], attempt: int) -> str:
    seed = "erase|" + ",".join(sorted(refs)) + ("" if attempt == 1 else f"|{attempt}")
    return hashlib.sha256(seed.encode()).hexdigest()[:24]


def _held(ref: str, deps: Deps) -> bool:
    return deps.tables.candidate(ref) is not None or deps.data_keys.get(ref) is not None


def propose(refs: Iterable[str], reason: str, operator: str, deps: Deps | None = None) -> str:
    """Propose erasing the records `refs` (one person's records); returns the proposal's id.

    The reason is shown to the reviewers: a ticket number, not the person's details. Refused (`Conflict`) for a
    record already erased, one Foureyes holds nothing about (`NotFound`), or while the same erasure is proposed
    by someone else; the same person asking again gets the open proposal's id.
    """
    deps = deps or default_deps()
    wanted = check_refs(refs)
    if not reason.strip():
        raise BadRequest("--reason is required: say why (a ticket number, not the person's details)")
    if not operator.strip():
        raise BadRequest("--operator is required: who asks")
    for ref in wanted:
        key = deps.data_keys.get(ref)
        if key is not None and key.erased_at:
            raise Conflict(f"{ref} was erased on {key.erased_at}")
        if not _held(ref, deps):
            raise NotFound(f"Foureyes holds nothing about {ref}")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        proposal_id = erasure_id(wanted, attempt)
        earlier = deps.proposals.proposals.get(proposal_id)
        if earlier is None:
            break
        if earlier.status in ENDED_WITHOUT_EFFECT:
            continue
        if earlier.proposed_by == operator and earlier.status != ProposalStatus.EXECUTED:
            return proposal_id  # the same person again: the open proposal
        raise Conflict(f"an erasure of these records is already {earlier.status} ({proposal_id})")
    else:
        raise Conflict("too many erasure proposals of these records; ask a team lead")
    new = proposals.NewProposal(
        proposal_id=proposal_id, pair_key="erase|" + ",".join(sorted(wanted)), system=ERASURE_SYSTEM,
        action=Action.ERASE_CANDIDATE, refs=tuple(wanted), payload={"refs": wanted},
        diff={"target": ", ".join(wanted), "before": "held by Foureyes", "after": "erased, irreversibly"},
        confidence=1.0, reasoning=f"Erasure request (GDPR Art. 17) entered by {operator}: {reason.strip()[:300]}",
        evidence=("erasure_request",), evidence_hash=f"erase-{proposal_id}")
    if not proposals.submit(new, deps.proposals, proposed_by=operator):
        raise Conflict(f"an erasure of these records is already proposed ({proposal_id})")
    deps.audit.record("erase.proposed", operator, proposal_id, {"refs": wanted})
    return proposal_id


# ---------------------------------------------------------------------------------------------------- executing
@dataclass(frozen=True, slots=True)
class Executed:
    status: str
    counts: dict[str, int]


def execute(proposal_id: str, deps: Deps | None = None) -> Executed:
    """Erase what an approved erasure proposal names (see the module); a retry finishes what a crash left."""
    deps = deps or default_deps()
    item = deps.proposals.proposals.get(proposal_id)
    if item is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    if item.action != Action.ERASE_CANDIDATE.value:
        raise DispatchRefused(f"proposal {proposal_id} is not an erasure")
    if item.status == ProposalStatus.EXECUTED.value:
        return Executed(item.status, {})
    if item.status != ProposalStatus.APPROVED.value:
        raise DispatchRefused(f"proposal {proposal_id} is {item.status}, not approved")
    from foureyes.dispatch.dispatcher import deciders  # the same four-eyes check as every ATS write

    try:
        people = sorted(deciders(item, deps.directory()))
    except DispatchRefused:
        deps.audit.record("erase.refused", EXECUTOR, proposal_id, {"why": "four eyes"})
        raise
    # The proposal stays approved until every step is done: an executor that stopped is handed it again (the
    # state machine's retries, then the nightly retry, which hands approved erasures to this executor too).
    counts: Counter[str] = Counter()
    for ref in item.refs:
        _erase(ref, proposal_id, deps, counts)
    deps.proposals.proposals.set_status(proposal_id, ProposalStatus.EXECUTED.value,
                                        f"erased {len(item.refs)} record(s)", executed_at=_now(deps))
    result = {name: counts[name] for name in sorted(counts)}
    deps.audit.record("erase.executed", EXECUTOR, proposal_id,
                      {"refs": list(item.refs), "approvers": people, "deleted": result})
    logger.info("erasure executed", extra={"proposal_id": proposal_id, "deleted": result})
    return Executed(ProposalStatus.EXECUTED.value, result)


def _erase(ref: str, proposal_id: str, deps: Deps, counts: Counter[str]) -> None:
    now = _now(deps)
    deps.data_keys.mark_erasing(ref, proposal_id, now)  # from here on, ingest skips the record
    _erase_scheduling(ref, deps, counts)
    for match_key in deps.match_keys.keys_of(ref):
        deps.match_keys.delete(match_key, ref)
        counts["match_keys"] += 1
    for pair in deps.near_misses.naming(ref):
        deps.near_misses.delete(pair)
        counts["near_misses"] += 1
    marker = {"erased": True, "refs": [ref]}
    for other in deps.tables.proposals_naming(ref):
        if other.proposal_id == proposal_id:
            continue
        if other.status in {status.value for status in OPEN_STATUSES}:
            if deps.proposals.proposals.transition(other.proposal_id, other.status, ProposalStatus.WITHDRAWN.value,
                                                   "withdrawn: a record it names was erased"):
                counts["proposals_withdrawn"] += 1
                if other.execution_arn:
                    deps.stop_review(other.execution_arn)
        deps.tables.redact_proposal(other.proposal_id, {**marker, "refs": list(other.refs)}, ERASED_TEXT)
        counts["proposals_redacted"] += 1
        if deps.tables.dispatch(other.proposal_id) is not None:
            deps.tables.redact_dispatch(other.proposal_id, {**marker, "refs": list(other.refs)})
            counts["dispatches_redacted"] += 1
    if deps.tables.candidate(ref) is not None:
        deps.tables.delete_candidate(ref)
        counts["candidates"] += 1
    key = deps.data_keys.get(ref)
    if key is not None and not key.erased_at:
        deps.data_keys.destroy(ref, _now(deps))
        counts["data_keys"] += 1
    deps.ring.forget(ref)


def _delete_events(events: dict[str, Any] | None, deps: Deps, counts: Counter[str]) -> None:
    for interviewer, event_id in (events or {}).items():
        deps.calendar.delete(str(interviewer), str(event_id))
        counts["calendar_events"] += 1


def _delete_blocks(keys: Iterable[str], owner: str, deps: Deps, counts: Counter[str]) -> None:
    for key in keys:
        pk, sk = locks.split(key)
        if deps.tables.delete_lock(pk, sk, owner=owner):
            counts["scheduling_locks"] += 1


def _erase_scheduling(ref: str, deps: Deps, counts: Counter[str]) -> None:
    """The record's interview requests and all that hangs off them; calendar events first (their ids are here)."""
    for request in deps.tables.requests_of(ref):
        request_id = str(request.request_id)
        hold = deps.tables.lock(locks.hold_pk(request_id), locks.HOLD_SK)
        if hold is not None:
            _delete_events(hold.events, deps, counts)
            _delete_blocks(hold.blocks or (), locks.hold_owner(request_id), deps, counts)
            deps.tables.delete_lock(locks.hold_pk(request_id), locks.HOLD_SK)
            counts["scheduling_locks"] += 1
        for booking in deps.tables.bookings_of(request_id):
            booking_id = str(booking.booking_id)
            _delete_events(booking.events, deps, counts)
            _delete_blocks(booking.blocks or (), booking_id, deps, counts)
            if deps.tables.delete_lock(str(booking.guard_key), locks.GUARD_SK, owner=booking_id):
                counts["scheduling_locks"] += 1
            for feedback in deps.tables.feedback_of(booking_id):
                deps.tables.delete_feedback(booking_id, str(feedback.interviewer_id))
                counts["feedback"] += 1
            deps.tables.delete_booking(booking_id)
            counts["bookings"] += 1
        if deps.tables.delete_lock(locks.request_guard_key(ref, str(request.role_id)), locks.GUARD_SK,
                                   owner=request_id):
            counts["scheduling_locks"] += 1
        for slot in deps.tables.slots_of(request_id):
            deps.tables.delete_slot(request_id, str(slot.slot_id))
            counts["slots"] += 1
        deps.tables.delete_request(request_id)
        counts["interview_requests"] += 1
