"""Per-system dispatch of approved proposals (and of facts people entered), the one guarded write path to the
ATSes and the HRIS.

Before every write: two distinct people approved, none excluded (a rollback: the original's approvers) and
none the proposer, or a person entered the fact (who is a person: `review.people.Directory`); the kill switch,
shadow mode, and the daily cap (an atomic counter per system per day, never exceeded under concurrency). In
shadow mode the call is recorded and nothing is sent. Live, the call goes through the system's client; the
receipt (the call sent, the records as they were, the inverse call) is stored so the write can be rolled back.
Repositories, switches, clients and the people directory come in as `Deps`.

- The kill switch and shadow mode are read uncached, once more right before the call (after the cap slot is
  taken and the in-progress marker is written): a pause that returned before that moment stops the write.
- A write that does not go out now is *parked* (status parked, with the reason: paused, the daily cap, the
  system down, an error before sending) and sent by the retry (`retry`: nightly, and after every unpause).
- A cap slot is given back on every path on which nothing was sent.
- An attempt that stopped mid-write (a timeout, a crash) leaves its marker `in_progress`. Once it is older than
  the dispatcher's timeout (so it cannot still be running), the next attempt reads the records from the ATS:
  the write shows -> executed (`dispatch.resolved`); nothing of it shows -> sent again through this same path;
  anything else (a part written, a note no record shows) -> failed, for a person to check (`dispatch.in_doubt`).
  That stopped attempt recorded nothing, not even its failure: the attempt that settles it counts it as one
  failed attempt (`Outcome.interrupted`), once, for the kill switch's error rate.
- So that an attempt ends in a recorded outcome rather than a kill, `dispatch` takes the invocation's time left:
  every call to the target then ends (or is not started) `RECORDING_MARGIN` before it (`foureyes.outbound`).
  A write that runs out of time (`OutOfTime`) may have been partly sent: it is failed for a person to check
  (`dispatch.in_doubt`), or parked and sent again when its idempotency key makes that harmless; either way it
  counts as a failed attempt.
- A proposal a contest holds (the candidate contested how their data is handled) is refused (`OnHold`), and
  claiming its write is one transaction with that check (`Dispatches.start`): a contest that held it first wins.
  A contest itself is never dispatched.
- A proposal that reaches its end (executed, shadowed, failed, rolled back) is kept, with its dispatch record,
  for the proposals' retention (`expires_at`); the receipt a rollback needs goes with it.
- A target whose connection is not configured yet (`IntegrationNotConfigured`: the HRIS before ops fill in its
  secret) gets nothing: the write is parked, waiting for it, and the retry sends it once it is configured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Protocol, runtime_checkable

from foureyes import audit, outbound, retention
from foureyes.ats import calls
from foureyes.ats.calls import Receipt
from foureyes.audit import Recorder
from foureyes.dispatch.controls import ParameterSwitches, Switches
from foureyes.errors import (
    AtsUnavailable,
    AtsWriteFailed,
    DailyCapReached,
    DispatchInDoubt,
    DispatchRefused,
    HrisUnavailable,
    IntegrationNotConfigured,
    NotFound,
    OnHold,
    OutOfTime,
    UnknownSystem,
)
from foureyes.model import Action, parse_iso
from foureyes.retention import Kept
from foureyes.review import lifecycle, proposals
from foureyes.review.lifecycle import DISPATCHABLE, ProposalStatus
from foureyes.review.people import Directory, load_directory
from foureyes.settings import settings
from foureyes.store.counters import Counters, DynamoCounters
from foureyes.store.dispatches import ON_HOLD, Dispatches, DynamoDispatches
from foureyes.store.models import DispatchItem, ProposalItem
from foureyes.store.proposals import DynamoProposals, Proposals

CAP_COUNTER_DAYS = 8  # a day's cap counter outlives the day by a week, then TTL removes it
CLOCK_MARGIN = timedelta(seconds=5)  # beyond the timeout: the marker's whole-second stamp, clocks apart
RECORDING_MARGIN = timedelta(seconds=10)  # of an invocation's time, kept back to record the outcome (a few writes)
UNAVAILABLE = (AtsUnavailable, HrisUnavailable)  # the target did not answer: the write waits (parked)
_DISPATCHABLE = frozenset(status.value for status in DISPATCHABLE)


class Sender(Protocol):
    """What the dispatcher sends through: an ATS client (`foureyes.ats.adapter.AtsClient`) or the HRIS client."""

    def execute(self, call: Mapping[str, Any]) -> Receipt:
        """Send `call` verbatim; the receipt holds the records as they were and the inverse call."""
        ...


@runtime_checkable
class _ReadsRecords(Protocol):
    def get_record(self, record_id: str) -> dict[str, Any]: ...


def _default_client_for(system: str) -> Sender:
    from foureyes.scheduling import hris

    if system == hris.SYSTEM:
        return hris.connected()
    from foureyes.ats.connections import client_for

    return client_for(system)


def read_back(system: str, client: Sender, call: Mapping[str, Any]) -> calls.Landed:
    """Whether `call` went through, from the records it changes as `system`'s client reads them now
    (`calls.landed`); UNKNOWN for a target whose records Foureyes cannot read (the HRIS)."""
    from foureyes.ats.registry import adapter_for

    try:
        adapter = adapter_for(system)
    except UnknownSystem:
        return calls.Landed.UNKNOWN
    if not isinstance(client, _ReadsRecords):
        return calls.Landed.UNKNOWN
    return calls.landed(adapter, call, client.get_record)


def _record_shadowed(item: ProposalItem) -> object:
    from foureyes.dispatch.agreement import record_shadow_decision

    return record_shadow_decision(item)  # to compare with what recruiters do themselves in the ATS


@dataclass(frozen=True)
class Deps:
    proposals: Proposals
    dispatches: Dispatches
    counters: Counters
    switches: Switches
    audit: Recorder
    client_for: Callable[[str], Sender] = _default_client_for
    record_shadowed: Callable[[ProposalItem], object] = _record_shadowed
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    people: Callable[[], Directory] = load_directory  # who is a person for a write (review.people)
    # An attempt left `in_progress` for longer than this (the dispatcher's timeout) has stopped: the next attempt
    # resolves it from the ATS's records. None: never resolved here (`DispatchInDoubt`).
    in_doubt_after: timedelta | None = None
    read_back: Callable[[str, Sender, Mapping[str, Any]], calls.Landed] = read_back
    retention_days: int | None = None  # of proposals that reached their end (None: kept, as in unit tests)


@cache
def default_deps() -> Deps:
    timeout = timedelta(seconds=settings().integer("DISPATCH_TIMEOUT_SECONDS"))
    return Deps(DynamoProposals(), DynamoDispatches(), DynamoCounters(), ParameterSwitches(), audit.default(),
                in_doubt_after=timeout + CLOCK_MARGIN, retention_days=retention.days(Kept.PROPOSALS))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one dispatch did, and what it adds to the kill switch's error rate (`attempts`, `errors`)."""

    status: str
    attempted: bool = False  # a live call was sent (counts towards the error rate)
    failed: bool = False  # ... and it ended in error without raising (out of time on a call sent again later)
    interrupted: bool = False  # an earlier attempt, killed mid-send, was settled here: one more failed attempt

    @property
    def attempts(self) -> int:
        """Live attempts this outcome accounts for: its own call, and a killed attempt it settled."""
        return int(self.attempted) + int(self.interrupted)

    @property
    def errors(self) -> int:
        """How many of `attempts` failed."""
        return int(self.attempted and self.failed) + int(self.interrupted)


def daily_cap(config: Any, today: date) -> int:
    """Today's cap from the ratchet: {"start": "YYYY-MM-DD", "steps": [[day, cap], ...]} (or a number)."""
    if isinstance(config, int | float):
        return int(config)
    start = date.fromisoformat(str(config["start"]))
    cap = 0
    for day, value in sorted(config["steps"]):
        if (today - start).days >= int(day):
            cap = int(value)
    return cap


def _cap_key(system: str, today: date) -> str:
    return f"dispatch-cap#{system}#{today.isoformat()}"


def _take_cap_slot(system: str, cap: int, deps: Deps) -> str:
    """Take one of today's slots; the slot's counter key (to give it back when nothing is sent)."""
    now = deps.clock()
    if cap <= 0:
        raise DailyCapReached(f"writes to {system} are capped at 0 today")
    key = _cap_key(system, now.date())
    expires = int(now.timestamp()) + CAP_COUNTER_DAYS * 86400
    if not deps.counters.take(key, cap, expires):
        raise DailyCapReached(f"today's cap of {cap} writes to {system} is reached")
    return key


def _stamp(deps: Deps) -> str:
    return deps.clock().isoformat(timespec="seconds")


def _set_status(proposal_id: str, status: ProposalStatus, outcome: str, deps: Deps, executed: bool = False) -> None:
    """The proposal's new status; once it has ended, it and its dispatch record are kept for the retention."""
    expires = lifecycle.expiry(status.value, deps.clock(), deps.retention_days)
    deps.proposals.set_status(proposal_id, status.value, outcome, executed_at=_stamp(deps) if executed else None,
                              expires_at=expires)
    if expires is not None:
        deps.dispatches.keep_until(proposal_id, expires)


def deciders(item: ProposalItem, directory: Directory) -> set[str]:
    """Who decided this write: two distinct people who approved, none excluded and none the proposer, or the one
    person who entered a fact. Whether an actor is a person is the directory's answer (`review.people`).

    Raises `DispatchRefused` when neither holds: nothing reaches an ATS without that.
    """
    if item.fact:
        ref = item.refs[0] if item.refs else ""
        if not directory.enters_fact(item.proposed_by, ref):
            raise DispatchRefused(f"fact {item.proposal_id} was not entered by a person")
        return {item.proposed_by}
    excluded = set(item.excluded_approvers or []) | {item.proposed_by}
    decided = {person or "" for person, decision in ((item.reviewed_by, item.review_decision),
                                                      (item.approved_by, item.approval_decision),
                                                      (item.tiebreak_by, item.tiebreak_decision)) if decision}
    refused = [person for person in decided if person in excluded or not directory.decides(person)]
    if refused:
        raise DispatchRefused(f"proposal {item.proposal_id} carries {len(refused)} decision(s) by someone who may "
                              "not decide it (not a person, excluded, or its proposer)")
    approvers = proposals.approvers(item)
    if len(approvers) < 2:
        raise DispatchRefused(f"proposal {item.proposal_id} carries {len(approvers)} distinct approval(s); "
                              "two are required")
    return approvers


def dispatch(proposal_id: str, system: str, deps: Deps | None = None, *, time_left_ms: int | None = None) -> Outcome:
    """Execute (or, in shadow mode, record; paused or capped, park) one approved proposal.

    `time_left_ms` is the invocation's remaining time: every call to the target then ends, or is not started,
    `RECORDING_MARGIN` before it, and running out of time is an outcome recorded here, not a kill that records
    nothing. Raises `AtsWriteFailed` for a write the target refused or broke (or that ran out of time).
    """
    deadline = None
    if time_left_ms is not None:
        deadline = outbound.Deadline.after(time_left_ms / 1000 - RECORDING_MARGIN.total_seconds())
    with outbound.within(deadline):
        return _dispatch(proposal_id, system, deps or default_deps())


def _dispatch(proposal_id: str, system: str, deps: Deps) -> Outcome:
    item = deps.proposals.get(proposal_id)
    if item is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    if item.system != system:
        raise DispatchRefused(f"proposal {proposal_id} is for {item.system}, not {system}")
    existing = deps.dispatches.get(proposal_id)
    if existing is not None and existing.status != ProposalStatus.PARKED.value:
        if existing.status == ProposalStatus.IN_PROGRESS.value:
            return _resolve(item, existing, system, deps)
        _agree(item, existing, deps)
        return Outcome(existing.status)  # a retried task: the first run already decided what happened
    if item.action == Action.CONTEST:
        raise DispatchRefused(f"proposal {proposal_id} is a contest; a contest is never written to an ATS")
    if item.held_by:
        deps.audit.record("dispatch.refused", "system", proposal_id,
                          {"system": system, "why": "on hold", "contest": item.held_by})
        raise OnHold(ON_HOLD)
    if item.status not in _DISPATCHABLE:
        raise DispatchRefused(f"proposal {proposal_id} is {item.status}, not approved")
    try:
        people = sorted(deciders(item, deps.people()))
    except DispatchRefused:
        deps.audit.record("dispatch.refused", "system", proposal_id, {"system": system, "why": "four eyes"})
        raise
    if deps.switches.paused():
        return _refuse_paused(item, system, deps)
    if deps.switches.shadow_mode():
        return _shadow(item, system, people, deps)
    return _send_live(item, system, people, deps)


def _send_live(item: ProposalItem, system: str, people: list[str], deps: Deps) -> Outcome:
    proposal_id = item.proposal_id
    cap = daily_cap(deps.switches.daily_caps().get(system, 0), deps.clock().date())
    try:
        slot = _take_cap_slot(system, cap, deps)
    except DailyCapReached:
        return _park(item, system, "daily cap reached", deps)
    try:
        ready = _ready_to_send(item, system, people, deps)
    except Exception:
        deps.counters.add(slot, -1)  # nothing was sent: the slot goes back
        raise
    if isinstance(ready, Outcome):
        deps.counters.add(slot, -1)
        return ready
    try:
        receipt = ready.execute(item.payload)
    except UNAVAILABLE:
        deps.counters.add(slot, -1)
        _park(item, system, f"{system} unavailable", deps, own_marker=True)
        return Outcome(ProposalStatus.PARKED.value, attempted=True)
    except OutOfTime as exc:
        return _out_of_time(item, system, slot, exc, deps)
    except Exception as exc:
        deps.dispatches.finish(proposal_id, ProposalStatus.FAILED.value)
        _set_status(proposal_id, ProposalStatus.FAILED, f"dispatch failed: {type(exc).__name__}", deps)
        deps.audit.record("dispatch.failed", "system", proposal_id, {"system": system, "error": type(exc).__name__})
        raise AtsWriteFailed(f"{system} refused the write of {proposal_id}: {type(exc).__name__}") from exc
    deps.dispatches.finish(proposal_id, ProposalStatus.EXECUTED.value, _jsonable(receipt.as_dict()))
    _executed(item, "dispatch.executed", {"system": system, "action": item.action, "approvers": people,
                                          "rollback_of": item.rollback_of}, deps)
    return Outcome(ProposalStatus.EXECUTED.value, attempted=True)


def _out_of_time(item: ProposalItem, system: str, slot: str, exc: OutOfTime, deps: Deps) -> Outcome:
    """The attempt ran out of time mid-write: what reached the target is unknown. A call its receiver answers once
    per idempotency key is parked and sent again (the next attempt takes its own cap slot); any other is failed,
    in doubt, for a person to check the records. Either way a failed attempt (`AtsWriteFailed` for the second)."""
    proposal_id = item.proposal_id
    if calls.resendable(item.payload):
        deps.counters.add(slot, -1)
        _park(item, system, "out of time mid-send; sent again under its idempotency key", deps, own_marker=True)
        return Outcome(ProposalStatus.PARKED.value, attempted=True, failed=True)
    deps.dispatches.finish(proposal_id, ProposalStatus.FAILED.value)
    _set_status(proposal_id, ProposalStatus.FAILED, "in doubt: the attempt ran out of time mid-write; check the "
                "records in the ATS", deps)
    deps.audit.record("dispatch.in_doubt", "system", proposal_id,
                      {"system": system, "action": item.action, "why": "out of time"})
    raise AtsWriteFailed(f"the write of {proposal_id} to {system} ran out of time; it is in doubt") from exc


def _ready_to_send(item: ProposalItem, system: str, people: list[str], deps: Deps) -> Sender | Outcome:
    """Claim the write (the in-progress marker), look at the switches one last time, uncached, and return the
    client to send with; or the outcome when the write stops here (nothing sent)."""
    proposal_id = item.proposal_id
    marker = DispatchItem(proposal_id, system=system, mode="live", status=ProposalStatus.IN_PROGRESS.value,
                          call=item.payload, diff=item.diff or {}, at=_stamp(deps))
    if not deps.dispatches.start(marker, over_status=ProposalStatus.PARKED.value):
        raise DispatchInDoubt(f"proposal {proposal_id} is being dispatched by another attempt")
    try:
        # The last look, right before the call: a pause (the kill switch, `ops pause`) or shadow mode set at any
        # moment before this read stops the write here.
        if deps.switches.paused():
            return _refuse_paused(item, system, deps, own_marker=True)
        if deps.switches.shadow_mode():
            return _shadow(item, system, people, deps, own_marker=True)
        return deps.client_for(system)
    except IntegrationNotConfigured:  # nothing was sent: parked until ops fill in the connection, then retried
        return _park(item, system, f"waiting for the {system} connection to be configured", deps, own_marker=True)
    except Exception as exc:  # nothing was sent: the write waits for the retry
        _park(item, system, f"stopped before sending ({type(exc).__name__})", deps, own_marker=True)
        raise


def _refuse_paused(item: ProposalItem, system: str, deps: Deps, own_marker: bool = False) -> Outcome:
    deps.audit.record("dispatch.refused", "system", item.proposal_id, {"system": system, "why": "paused"})
    return _park(item, system, "paused", deps, own_marker=own_marker)


def _shadow(item: ProposalItem, system: str, people: list[str], deps: Deps, own_marker: bool = False) -> Outcome:
    proposal_id = item.proposal_id
    record = DispatchItem(proposal_id, system=system, mode="shadow", status=ProposalStatus.SHADOWED.value,
                          call=item.payload, diff=item.diff or {}, at=_stamp(deps))
    if own_marker:
        deps.dispatches.put(record)
    elif not deps.dispatches.start(record, over_status=ProposalStatus.PARKED.value):
        found = deps.dispatches.get(proposal_id)
        return Outcome(found.status if found else ProposalStatus.SHADOWED.value)
    _set_status(proposal_id, ProposalStatus.SHADOWED, "shadow: call recorded, not sent", deps)
    deps.record_shadowed(item)
    deps.audit.record("dispatch.shadowed", "system", proposal_id,
                      {"system": system, "action": item.action, "approvers": people})
    return Outcome(ProposalStatus.SHADOWED.value)


def _park(item: ProposalItem, system: str, why: str, deps: Deps, own_marker: bool = False) -> Outcome:
    """Park the write for the retry. Over this attempt's own marker, or only where no other attempt holds a record."""
    record = DispatchItem(item.proposal_id, system=system, mode="live", status=ProposalStatus.PARKED.value,
                          call=item.payload, diff=item.diff or {}, at=_stamp(deps))
    if own_marker:
        deps.dispatches.put(record)
    elif not deps.dispatches.start(record, over_status=ProposalStatus.PARKED.value):
        found = deps.dispatches.get(item.proposal_id)
        return Outcome(found.status if found else ProposalStatus.PARKED.value)
    _set_status(item.proposal_id, ProposalStatus.PARKED, f"parked: {why}", deps)
    deps.audit.record("dispatch.parked", "system", item.proposal_id, {"system": system, "why": why})
    return Outcome(ProposalStatus.PARKED.value)


def _executed(item: ProposalItem, event: str, detail: dict[str, Any], deps: Deps) -> None:
    # The original first: whoever sees a rollback executed sees its original rolled back (a stop between the two
    # writes is settled by `_agree` from the dispatch record).
    if item.rollback_of:
        _set_status(item.rollback_of, ProposalStatus.ROLLED_BACK, f"rolled back by {item.proposal_id}", deps)
    _set_status(item.proposal_id, ProposalStatus.EXECUTED, "executed", deps, executed=True)
    deps.audit.record(event, "system", item.proposal_id, detail)


_SETTLED = frozenset({ProposalStatus.EXECUTED.value, ProposalStatus.SHADOWED.value, ProposalStatus.FAILED.value})


def _agree(item: ProposalItem, record: DispatchItem, deps: Deps) -> None:
    """A proposal still waiting although its dispatch record is settled (a stop between the two writes): the
    proposal takes the record's status, so the retry does not meet it again."""
    if item.status not in _DISPATCHABLE or record.status not in _SETTLED:
        return
    executed = record.status == ProposalStatus.EXECUTED.value
    if executed and item.rollback_of:
        _set_status(item.rollback_of, ProposalStatus.ROLLED_BACK, f"rolled back by {item.proposal_id}", deps)
    _set_status(item.proposal_id, ProposalStatus(record.status), f"{record.status} (from the dispatch record)", deps,
                executed=executed)


def _started(record: DispatchItem) -> datetime | None:
    try:
        return parse_iso(record.at)
    except (TypeError, ValueError):
        return None


def _resolve(item: ProposalItem, record: DispatchItem, system: str, deps: Deps) -> Outcome:
    """An attempt left its marker `in_progress`: once it is past the dispatcher's timeout, settle it from the
    ATS's records (see the module's text); before that it may still be running, and is left alone.

    The attempt that settles it (the one whose transition wins) counts it as a failed attempt (`interrupted`):
    it was killed, and recorded nothing itself."""
    proposal_id = item.proposal_id
    started = _started(record)
    if deps.in_doubt_after is None or started is None or deps.clock() - started <= deps.in_doubt_after:
        raise DispatchInDoubt(f"proposal {proposal_id} is being sent by an attempt that began at {record.at}; it is "
                              "resolved from the ATS's records once that attempt's time is up")
    call = dict(record.call or {})
    found = deps.read_back(system, deps.client_for(system), call)
    in_progress = ProposalStatus.IN_PROGRESS.value
    if found is calls.Landed.YES:
        receipt = {"call": call, "created": [None] * len(calls.steps_of(call)), "before": {}, "inverse": {},
                   "resolved": "the write was found in the records after its attempt stopped; the records as they "
                               "were before it are unknown, so there is no inverse"}
        if not deps.dispatches.transition(proposal_id, from_status=in_progress, at=record.at,
                                          to_status=ProposalStatus.EXECUTED.value, receipt=receipt):
            return _now(proposal_id, deps)
        _executed(item, "dispatch.resolved", {"system": system, "action": item.action, "found": found.value,
                                              "then": "executed", "rollback_of": item.rollback_of}, deps)
        return Outcome(ProposalStatus.EXECUTED.value, interrupted=True)
    if found is calls.Landed.NO or calls.resendable(call):
        if not deps.dispatches.transition(proposal_id, from_status=in_progress, at=record.at,
                                          to_status=ProposalStatus.PARKED.value):
            return _now(proposal_id, deps)
        deps.counters.add(_cap_key(system, started.date()), -1)  # that attempt's slot: it wrote nothing (new)
        _set_status(proposal_id, ProposalStatus.PARKED, "parked: an interrupted attempt wrote nothing; sent again",
                    deps)
        deps.audit.record("dispatch.resolved", "system", proposal_id,
                          {"system": system, "action": item.action, "found": found.value, "then": "send again"})
        try:
            resent = _dispatch(proposal_id, system, deps)
        except AtsWriteFailed as exc:
            raise AtsWriteFailed(str(exc), attempts=exc.attempts + 1) from exc
        return replace(resent, interrupted=True)
    if not deps.dispatches.transition(proposal_id, from_status=in_progress, at=record.at,
                                      to_status=ProposalStatus.FAILED.value):
        return _now(proposal_id, deps)
    _set_status(proposal_id, ProposalStatus.FAILED, "in doubt: an interrupted attempt may have written part of the "
                "call; check the records in the ATS", deps)
    deps.audit.record("dispatch.in_doubt", "system", proposal_id,
                      {"system": system, "action": item.action, "found": found.value})
    return Outcome(ProposalStatus.FAILED.value, interrupted=True)


def _now(proposal_id: str, deps: Deps) -> Outcome:
    """Another attempt settled the record first: what it decided."""
    found = deps.dispatches.get(proposal_id)
    return Outcome(found.status if found else ProposalStatus.PARKED.value)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """The receipt as stored: ATS timestamps (datetimes from SOAP) become ISO text."""
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result
