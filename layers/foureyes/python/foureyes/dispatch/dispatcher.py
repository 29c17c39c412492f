"""Per-system dispatch of approved proposals.

Before every write: two distinct people approved, none excluded (a rollback: the original's approvers) and
none the proposer, or a person entered the fact (who is a person: `review.people.Directory`); the kill switch,
shadow mode, and the daily cap (an atomic counter per system per day, never exceeded under concurrency). In
shadow mode the call is recorded and nothing is sent. Live, the call goes through the system's client; the
receipt (the call sent, the records as they were, the inverse call) is stored so the write can be rolled back.
A system that is down parks the write for the nightly retry. Repositories, switches, clients and the people
directory come in as `Deps`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from foureyes import audit
from foureyes.ats.adapter import AtsClient
from foureyes.audit import Recorder
from foureyes.dispatch.controls import ParameterSwitches, Switches
from foureyes.errors import (
    AtsUnavailable,
    AtsWriteFailed,
    DailyCapReached,
    DispatchInDoubt,
    DispatchRefused,
    NotFound,
)
from foureyes.review import proposals
from foureyes.review.lifecycle import DISPATCHABLE, ProposalStatus
from foureyes.review.people import Directory, load_directory
from foureyes.store.counters import Counters, DynamoCounters
from foureyes.store.dispatches import Dispatches, DynamoDispatches
from foureyes.store.models import DispatchItem, ProposalItem
from foureyes.store.proposals import DynamoProposals, Proposals

CAP_COUNTER_DAYS = 8  # a day's cap counter outlives the day by a week, then TTL removes it


def _default_client_for(system: str) -> AtsClient:
    from foureyes.ats.connections import client_for

    return client_for(system)


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
    client_for: Callable[[str], AtsClient] = _default_client_for
    record_shadowed: Callable[[ProposalItem], object] = _record_shadowed
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    people: Callable[[], Directory] = load_directory  # who is a person for a write (review.people)


@cache
def default_deps() -> Deps:
    return Deps(DynamoProposals(), DynamoDispatches(), DynamoCounters(), ParameterSwitches(), audit.default())


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    attempted: bool = False  # a live call was sent (counts towards the error rate)


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


def _take_cap_slot(system: str, cap: int, deps: Deps) -> None:
    now = deps.clock()
    if cap <= 0:
        raise DailyCapReached(f"writes to {system} are capped at 0 today")
    expires = int(now.timestamp()) + CAP_COUNTER_DAYS * 86400
    if not deps.counters.take(_cap_key(system, now.date()), cap, expires):
        raise DailyCapReached(f"today's cap of {cap} writes to {system} is reached")


def _stamp(deps: Deps) -> str:
    return deps.clock().isoformat(timespec="seconds")


def _set_status(proposal_id: str, status: ProposalStatus, outcome: str, deps: Deps, executed: bool = False) -> None:
    deps.proposals.set_status(proposal_id, status.value, outcome, executed_at=_stamp(deps) if executed else None)


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


def dispatch(proposal_id: str, system: str, deps: Deps | None = None) -> Outcome:
    """Execute (or, in shadow mode, record) one approved proposal."""
    deps = deps or default_deps()
    item = deps.proposals.get(proposal_id)
    if item is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    if item.system != system:
        raise DispatchRefused(f"proposal {proposal_id} is for {item.system}, not {system}")
    existing = deps.dispatches.get(proposal_id)
    if existing is not None and existing.status != ProposalStatus.PARKED.value:
        if existing.status == ProposalStatus.IN_PROGRESS.value:
            raise DispatchInDoubt(f"proposal {proposal_id} was being sent when its last attempt stopped")
        return Outcome(existing.status)  # a retried task: the first run already decided what happened
    if item.status not in {status.value for status in DISPATCHABLE}:
        raise DispatchRefused(f"proposal {proposal_id} is {item.status}, not approved")
    try:
        people = deciders(item, deps.people())
    except DispatchRefused:
        deps.audit.record("dispatch.refused", "system", proposal_id, {"system": system, "why": "four eyes"})
        raise
    if deps.switches.paused():
        deps.audit.record("dispatch.refused", "system", proposal_id, {"system": system, "why": "paused"})
        raise DispatchRefused("dispatch is paused (kill switch); a human must unpause it")
    if deps.switches.shadow_mode():
        record = DispatchItem(proposal_id, system=system, mode="shadow", status=ProposalStatus.SHADOWED.value,
                              call=item.payload, diff=item.diff or {}, at=_stamp(deps))
        if not deps.dispatches.create(record):
            found = deps.dispatches.get(proposal_id)
            return Outcome(found.status if found else ProposalStatus.SHADOWED.value)
        _set_status(proposal_id, ProposalStatus.SHADOWED, "shadow: call recorded, not sent", deps)
        deps.record_shadowed(item)
        deps.audit.record("dispatch.shadowed", "system", proposal_id,
                          {"system": system, "action": item.action, "approvers": sorted(people)})
        return Outcome(ProposalStatus.SHADOWED.value)
    return _send_live(item, system, sorted(people), deps)


def _send_live(item: ProposalItem, system: str, people: list[str], deps: Deps) -> Outcome:
    proposal_id = item.proposal_id
    today = deps.clock().date()
    cap = daily_cap(deps.switches.daily_caps().get(system, 0), today)
    try:
        _take_cap_slot(system, cap, deps)
    except DailyCapReached:
        _park(item, system, "daily cap reached", deps)
        return Outcome(ProposalStatus.PARKED.value)
    marker = DispatchItem(proposal_id, system=system, mode="live", status=ProposalStatus.IN_PROGRESS.value,
                          call=item.payload, diff=item.diff or {}, at=_stamp(deps))
    if not deps.dispatches.start(marker, over_status=ProposalStatus.PARKED.value):
        raise DispatchInDoubt(f"proposal {proposal_id} is being dispatched by another attempt")
    try:
        receipt = deps.client_for(system).execute(item.payload)
    except AtsUnavailable:
        deps.counters.add(_cap_key(system, today), -1)
        _park(item, system, "ATS unavailable", deps)
        return Outcome(ProposalStatus.PARKED.value, attempted=True)
    except Exception as exc:
        deps.dispatches.finish(proposal_id, ProposalStatus.FAILED.value)
        _set_status(proposal_id, ProposalStatus.FAILED, f"dispatch failed: {type(exc).__name__}", deps)
        deps.audit.record("dispatch.failed", "system", proposal_id, {"system": system, "error": type(exc).__name__})
        raise AtsWriteFailed(f"{system} refused the write of {proposal_id}: {type(exc).__name__}") from exc
    deps.dispatches.finish(proposal_id, ProposalStatus.EXECUTED.value, _jsonable(receipt.as_dict()))
    _set_status(proposal_id, ProposalStatus.EXECUTED, "executed", deps, executed=True)
    if item.rollback_of:
        deps.proposals.set_status(item.rollback_of, ProposalStatus.ROLLED_BACK.value, f"rolled back by {proposal_id}")
    deps.audit.record("dispatch.executed", "system", proposal_id,
                      {"system": system, "action": item.action, "approvers": people, "rollback_of": item.rollback_of})
    return Outcome(ProposalStatus.EXECUTED.value, attempted=True)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """The receipt as stored: ATS timestamps (datetimes from SOAP) become ISO text."""
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


def _park(item: ProposalItem, system: str, why: str, deps: Deps) -> None:
    deps.dispatches.put(DispatchItem(item.proposal_id, system=system, mode="live", status=ProposalStatus.PARKED.value,
                                     call=item.payload, diff=item.diff or {}, at=_stamp(deps)))
    _set_status(item.proposal_id, ProposalStatus.PARKED, f"parked: {why}", deps)
    deps.audit.record("dispatch.parked", "system", item.proposal_id, {"system": system, "why": why})
