"""Rollback of an executed write: itself a four-eyes proposal, whose approvers may not include the
people who approved the original action."""

from __future__ import annotations

import hashlib

from foureyes.errors import BadRequest, Conflict, NotFound
from foureyes.model import Action
from foureyes.review import proposals
from foureyes.review.lifecycle import ProposalStatus
from foureyes.store.dispatches import Dispatches, DynamoDispatches


def propose_rollback(original_id: str, requested_by: str, reason: str, deps: proposals.Deps | None = None,
                     dispatches: Dispatches | None = None) -> str:
    """Propose undoing `original_id` (the stored inverse call); returns the rollback proposal's id."""
    deps = deps or proposals.default_deps()
    dispatches = dispatches or DynamoDispatches()
    if not reason.strip():
        raise BadRequest("a rollback needs a reason")
    original = deps.proposals.get(original_id)
    if original is None:
        raise NotFound(f"proposal {original_id} does not exist")
    if original.status != ProposalStatus.EXECUTED.value:
        raise Conflict(f"proposal {original_id} is {original.status}: only an executed write can be rolled back"
                       + (" (shadow mode sent nothing)" if original.status == ProposalStatus.SHADOWED.value else ""))
    record = dispatches.get(original_id)
    if record is None:
        raise NotFound(f"no dispatch record for {original_id}")
    inverse = (record.receipt or {}).get("inverse")
    if not inverse:
        raise Conflict(f"the write of {original_id} changed nothing that needs undoing")
    rollback_id = hashlib.sha256(f"rollback|{original_id}".encode()).hexdigest()[:24]
    diff = original.diff or {}
    new = proposals.NewProposal(
        proposal_id=rollback_id, pair_key=f"rollback|{original_id}", system=original.system,
        action=Action(original.action), refs=(original.refs[0], original.refs[-1]), payload=inverse,
        diff={"target": diff.get("target"), "before": diff.get("after"), "after": diff.get("before")},
        confidence=1.0, reasoning=f"Rollback of proposal {original_id}, requested by {requested_by}: {reason[:200]}",
        evidence=("rollback",), evidence_hash=f"rollback-{original_id}")
    if not proposals.submit(new, deps, proposed_by=requested_by, rollback_of=original_id,
                            excluded_approvers=sorted(proposals.approvers(original))):
        raise Conflict(f"a rollback of {original_id} is already proposed ({rollback_id})")
    return rollback_id
