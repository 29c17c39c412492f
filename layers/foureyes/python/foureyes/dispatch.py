"""Per-system dispatch of approved proposals: two distinct approvals, kill switch, shadow mode.

In shadow mode the dispatcher records the exact call it would have sent and sends nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import PutError

from foureyes import audit, proposals
from foureyes.config import env, ssm_flag
from foureyes.errors import DispatchRefused, NotFound
from foureyes.model import ProposalStatus
from foureyes.store.models import DispatchItem, ProposalItem, bound


class LiveDispatchUnavailable(DispatchRefused):
    """Live dispatch needs this system's connector; until it exists only shadow mode runs."""


def dispatch(proposal_id: str, system: str) -> str:
    """Execute (or, in shadow mode, record) one approved proposal; returns the dispatch status."""
    item = proposals.get(proposal_id)
    if item is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    if item.system != system:
        raise DispatchRefused(f"proposal {proposal_id} is for {item.system}, not {system}")
    existing = _existing(proposal_id)
    if existing is not None:
        return existing.status  # a retried task: the first run already decided what happened
    if item.status != ProposalStatus.APPROVED:
        raise DispatchRefused(f"proposal {proposal_id} is {item.status}, not approved")
    people = proposals.approvers(item)
    if len(people) < 2:
        raise DispatchRefused(f"proposal {proposal_id} carries {len(people)} distinct approval(s); two are required")
    if ssm_flag(env("KILL_SWITCH_PARAMETER")):
        audit.record("dispatch.refused", "system", proposal_id, {"system": system, "why": "paused"})
        raise DispatchRefused("dispatch is paused (kill switch); a human must unpause it")
    if not ssm_flag(env("SHADOW_MODE_PARAMETER")):
        raise LiveDispatchUnavailable(f"live dispatch to {system} is not available yet; enable shadow mode")
    status = ProposalStatus.SHADOWED.value
    model = bound(DispatchItem)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    record = model(proposal_id, system=system, mode="shadow", status=status, call=item.payload,
                   diff=item.diff or {}, at=now)
    try:
        record.save(condition=model.proposal_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            found = _existing(proposal_id)
            return found.status if found else status
        raise
    proposal_model = bound(ProposalItem)
    proposal_model(proposal_id).update(actions=[proposal_model.status.set(status),
                                                proposal_model.outcome.set("shadow: call recorded, not sent")])
    audit.record("dispatch.shadowed", "system", proposal_id,
                 {"system": system, "action": item.action, "approvers": sorted(people)})
    return status


def _existing(proposal_id: str) -> DispatchItem | None:
    model = bound(DispatchItem)
    try:
        return model.get(proposal_id, consistent_read=True)
    except model.DoesNotExist:
        return None
