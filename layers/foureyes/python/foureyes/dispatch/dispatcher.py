"""Per-system dispatch of approved proposals.

Before every write: two distinct approvals, the kill switch, shadow mode, and the daily cap (an
atomic counter per system per day, never exceeded under concurrency). In shadow mode the call is
recorded and nothing is sent. Live, the call goes through the system's connector; the receipt (the
call sent, the records as they were, the inverse call) is stored so the write can be rolled back.
A system that is down parks the write for the nightly retry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action

from foureyes import audit
from foureyes.errors import AtsUnavailable, AtsWriteFailed, DailyCapReached, DispatchInDoubt, DispatchRefused, NotFound
from foureyes.review import proposals
from foureyes.review.lifecycle import ProposalStatus
from foureyes.settings import env, ssm_flag, ssm_json
from foureyes.store.models import CounterItem, DispatchItem, ProposalItem, bound


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


def _take_cap_slot(system: str, cap: int, today: date) -> None:
    if cap <= 0:
        raise DailyCapReached(f"writes to {system} are capped at 0 today")
    model = bound(CounterItem)
    counter = model(f"dispatch-cap#{system}#{today.isoformat()}")
    try:
        expires = int(datetime.now(UTC).timestamp()) + 8 * 86400
        counter.update(actions=[model.value.add(1), model.expires_at.set(expires)],
                       condition=model.value.does_not_exist() | (model.value < cap))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise DailyCapReached(f"today's cap of {cap} writes to {system} is reached") from exc
        raise


def _release_cap_slot(system: str, today: date) -> None:
    model = bound(CounterItem)
    model(f"dispatch-cap#{system}#{today.isoformat()}").update(actions=[model.value.add(-1)])


def _existing(proposal_id: str) -> DispatchItem | None:
    model = bound(DispatchItem)
    try:
        return model.get(proposal_id, consistent_read=True)
    except model.DoesNotExist:
        return None


def _set_status(proposal_id: str, status: ProposalStatus, outcome: str, executed: bool = False) -> None:
    model = bound(ProposalItem)
    actions: list[Action] = [model.status.set(status.value), model.outcome.set(outcome)]
    if executed:
        actions.append(model.executed_at.set(datetime.now(UTC).isoformat(timespec="seconds")))
    model(proposal_id).update(actions=actions)


def dispatch(proposal_id: str, system: str, client_for: Callable[[str], Any] | None = None) -> Outcome:
    """Execute (or, in shadow mode, record) one approved proposal."""
    item = proposals.get(proposal_id)
    if item is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    if item.system != system:
        raise DispatchRefused(f"proposal {proposal_id} is for {item.system}, not {system}")
    existing = _existing(proposal_id)
    if existing is not None and existing.status != ProposalStatus.PARKED.value:
        if existing.status == "in_progress":
            raise DispatchInDoubt(f"proposal {proposal_id} was being sent when its last attempt stopped")
        return Outcome(existing.status)  # a retried task: the first run already decided what happened
    if item.status not in (ProposalStatus.APPROVED.value, ProposalStatus.PARKED.value):
        raise DispatchRefused(f"proposal {proposal_id} is {item.status}, not approved")
    people = proposals.approvers(item)
    if item.fact:
        from foureyes.dispatch.facts import NOT_PEOPLE

        if item.proposed_by in NOT_PEOPLE:
            raise DispatchRefused(f"fact {proposal_id} was not entered by a person")
        people = {item.proposed_by}
    elif len(people) < 2:
        raise DispatchRefused(f"proposal {proposal_id} carries {len(people)} distinct approval(s); two are required")
    if ssm_flag(env("KILL_SWITCH_PARAMETER")):
        audit.record("dispatch.refused", "system", proposal_id, {"system": system, "why": "paused"})
        raise DispatchRefused("dispatch is paused (kill switch); a human must unpause it")
    model = bound(DispatchItem)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if ssm_flag(env("SHADOW_MODE_PARAMETER")):
        record = model(proposal_id, system=system, mode="shadow", status=ProposalStatus.SHADOWED.value,
                       call=item.payload, diff=item.diff or {}, at=now)
        try:
            record.save(condition=model.proposal_id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                found = _existing(proposal_id)
                return Outcome(found.status if found else ProposalStatus.SHADOWED.value)
            raise
        _set_status(proposal_id, ProposalStatus.SHADOWED, "shadow: call recorded, not sent")
        from foureyes.dispatch.agreement import record_shadow_decision

        record_shadow_decision(item)  # to compare with what recruiters do themselves in the ATS
        audit.record("dispatch.shadowed", "system", proposal_id,
                     {"system": system, "action": item.action, "approvers": sorted(people)})
        return Outcome(ProposalStatus.SHADOWED.value)
    return _send_live(item, system, sorted(people), client_for)


def _send_live(item: ProposalItem, system: str, people: list[str],
               client_for: Callable[[str], Any] | None) -> Outcome:
    proposal_id = item.proposal_id
    today = datetime.now(UTC).date()
    cap = daily_cap(ssm_json(env("DAILY_CAP_PARAMETER")).get(system, 0), today)
    model = bound(DispatchItem)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        _take_cap_slot(system, cap, today)
    except DailyCapReached:
        _park(item, system, "daily cap reached")
        return Outcome(ProposalStatus.PARKED.value)
    marker = model(proposal_id, system=system, mode="live", status="in_progress", call=item.payload,
                   diff=item.diff or {}, at=now)
    marker.save(condition=model.proposal_id.does_not_exist() | (model.status == ProposalStatus.PARKED.value))
    if client_for is None:
        from foureyes.ats.connections import client_for as default_client_for

        client_for = default_client_for
    try:
        receipt = client_for(system).execute(item.payload)
    except AtsUnavailable:
        _release_cap_slot(system, today)
        _park(item, system, "ATS unavailable")
        return Outcome(ProposalStatus.PARKED.value, attempted=True)
    except Exception as exc:
        marker.update(actions=[model.status.set(ProposalStatus.FAILED.value)])
        _set_status(proposal_id, ProposalStatus.FAILED, f"dispatch failed: {type(exc).__name__}")
        audit.record("dispatch.failed", "system", proposal_id, {"system": system, "error": type(exc).__name__})
        raise AtsWriteFailed(f"{system} refused the write of {proposal_id}: {type(exc).__name__}") from exc
    marker.update(actions=[model.status.set(ProposalStatus.EXECUTED.value),
                           model.receipt.set(_jsonable(receipt.as_dict()))])
    _set_status(proposal_id, ProposalStatus.EXECUTED, "executed", executed=True)
    if item.rollback_of:
        original = bound(ProposalItem)
        original(item.rollback_of).update(actions=[original.status.set(ProposalStatus.ROLLED_BACK.value),
                                                   original.outcome.set(f"rolled back by {proposal_id}")])
    audit.record("dispatch.executed", "system", proposal_id,
                 {"system": system, "action": item.action, "approvers": people, "rollback_of": item.rollback_of})
    return Outcome(ProposalStatus.EXECUTED.value, attempted=True)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """The receipt as stored: ATS timestamps (datetimes from SOAP) become ISO text."""
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


def _park(item: ProposalItem, system: str, why: str) -> None:
    model = bound(DispatchItem)
    model(item.proposal_id, system=system, mode="live", status=ProposalStatus.PARKED.value, call=item.payload,
          diff=item.diff or {}, at=datetime.now(UTC).isoformat(timespec="seconds")).save()
    _set_status(item.proposal_id, ProposalStatus.PARKED, f"parked: {why}")
    audit.record("dispatch.parked", "system", item.proposal_id, {"system": system, "why": why})
