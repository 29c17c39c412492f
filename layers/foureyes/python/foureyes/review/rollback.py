"""Rollback of an executed write: itself a four-eyes proposal, which neither the people who approved the
original action nor the person asking for the rollback may decide.

One rollback of an original is open at a time. One that ended without undoing anything (rejected, expired,
failed, or only recorded in shadow mode) leaves the original executed, and a new rollback may be proposed:
each attempt has its own id (the original's id and the attempt number), so a double click proposes nothing twice.
"""

from __future__ import annotations

import hashlib

from foureyes.errors import N_, BadRequest, Conflict, NotFound
from foureyes.model import Action
from foureyes.review import proposals
from foureyes.review.lifecycle import ProposalStatus
from foureyes.store.dispatches import Dispatches, DynamoDispatches

# A rollback in one of these ended without undoing anything: the original may be rolled back again.
ENDED_WITHOUT_EFFECT = frozenset({ProposalStatus.REJECTED, ProposalStatus.EXPIRED, ProposalStatus.FAILED,
                                  ProposalStatus.SHADOWED})
MAX_ATTEMPTS = 100


def pair_key(original_id: str) -> str:
    """Every rollback of one original shares this pair key (one open at a time)."""
    return f"rollback|{original_id}"


def rollback_id(original_id: str, attempt: int) -> str:
    """The id of the `attempt`-th rollback of `original_id` (the first keeps the id it always had)."""
    seed = f"rollback|{original_id}" if attempt == 1 else f"rollback|{original_id}|{attempt}"
    return hashlib.sha256(seed.encode()).hexdigest()[:24]


def _next_attempt(original_id: str, requested_by: str, deps: proposals.Deps) -> tuple[int, str | None]:
    """(the next attempt's number, None), or (its number, the id to return) when the same person asked already.

    Read by id, strongly consistent: attempts are numbered 1, 2, ... and each ended before the next began.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        earlier = deps.proposals.get(rollback_id(original_id, attempt))
        if earlier is None:
            return attempt, None
        if earlier.status not in ENDED_WITHOUT_EFFECT:
            if earlier.proposed_by == requested_by:
                return attempt, str(earlier.proposal_id)  # the same person again (a double click)
            raise Conflict(f"a rollback of {original_id} is already proposed ({earlier.proposal_id})")
    raise Conflict(f"proposal {original_id} has had {MAX_ATTEMPTS} rollback proposals; ask a team lead")


def propose_rollback(original_id: str, requested_by: str, reason: str, deps: proposals.Deps | None = None,
                     dispatches: Dispatches | None = None) -> str:
    """Propose undoing `original_id` (the stored inverse call); returns the rollback proposal's id."""
    deps = deps or proposals.default_deps()
    dispatches = dispatches or DynamoDispatches()
    if not reason.strip():
        raise BadRequest(N_("a rollback needs a reason"))
    original = deps.proposals.get(original_id)
    if original is None:
        raise NotFound(f"proposal {original_id} does not exist")
    if original.action == Action.ERASE_CANDIDATE.value:
        raise Conflict(f"proposal {original_id} is an erasure: it is irreversible and cannot be rolled back")
    if original.status != ProposalStatus.EXECUTED.value:
        raise Conflict(f"proposal {original_id} is {original.status}: only an executed write can be rolled back"
                       + (" (shadow mode sent nothing)" if original.status == ProposalStatus.SHADOWED.value else ""))
    record = dispatches.get(original_id)
    if record is None:
        raise NotFound(f"no dispatch record for {original_id}")
    inverse = (record.receipt or {}).get("inverse")
    if not inverse:
        raise Conflict(f"the write of {original_id} changed nothing that needs undoing")
    attempt, already = _next_attempt(original_id, requested_by, deps)
    if already is not None:
        return already
    new_id = rollback_id(original_id, attempt)
    diff = original.diff or {}
    new = proposals.NewProposal(
        proposal_id=new_id, pair_key=pair_key(original_id), system=original.system,
        action=Action(original.action), refs=(original.refs[0], original.refs[-1]), payload=inverse,
        diff={"target": diff.get("target"), "before": diff.get("after"), "after": diff.get("before")},
        confidence=1.0, reasoning=f"Rollback of proposal {original_id}, requested by {requested_by}: {reason[:200]}",
        evidence=("rollback",), evidence_hash=f"rollback-{original_id}-{attempt}")
    if not proposals.submit(new, deps, proposed_by=requested_by, rollback_of=original_id,
                            excluded_approvers=sorted(proposals.approvers(original))):
        raced = deps.proposals.get(new_id)  # a concurrent request took this attempt's id first
        if raced is not None and raced.proposed_by == requested_by and raced.status not in ENDED_WITHOUT_EFFECT:
            return new_id
        raise Conflict(f"a rollback of {original_id} is already proposed")
    return new_id
