"""Proposals: what the matcher suggests, and the rules of the four-eyes decision.

`approvers` of a stored proposal, and `submit`, which stores a proposal once and starts its one
`ProposalReview` execution (its repositories and the workflow come in as `Deps`). Proposals are built
from scored pairs by the matcher (`matching.index.proposal_for`); review knows proposals, never scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from foureyes import audit
from foureyes.audit import Recorder
from foureyes.model import Action
from foureyes.review import lifecycle
from foureyes.review.lifecycle import OPEN_STATUSES, ProposalStatus
from foureyes.store.models import ProposalItem
from foureyes.store.proposals import DynamoProposals, Proposals
from foureyes.workflow import StepFunctionsWorkflow, Workflow


@dataclass(frozen=True, slots=True)
class NewProposal:
    proposal_id: str
    pair_key: str
    system: str
    action: Action
    refs: tuple[str, str]
    payload: dict[str, Any]
    diff: dict[str, Any]
    confidence: float
    reasoning: str
    evidence: tuple[str, ...]
    evidence_hash: str


def approvers(item: ProposalItem) -> set[str]:
    """The distinct people whose approval this proposal carries."""
    return lifecycle.approvers([(item.reviewed_by, item.review_decision), (item.approved_by, item.approval_decision),
                                (item.tiebreak_by, item.tiebreak_decision)])


@dataclass(frozen=True)
class Deps:
    """What storing and starting a proposal needs; `default_deps()` builds the real ones."""

    proposals: Proposals
    workflow: Workflow
    audit: Recorder
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


@cache
def default_deps() -> Deps:
    return Deps(DynamoProposals(), StepFunctionsWorkflow(), audit.default())


def blocked_by_history(pair_key: str, evidence_hash: str, proposals: Proposals) -> bool:
    """True while a proposal for this pair is open, or one was rejected on the same evidence."""
    for item in proposals.for_pair(pair_key):
        if item.status in OPEN_STATUSES:
            return True
        if item.status == ProposalStatus.REJECTED and item.evidence_hash == evidence_hash:
            return True
    return False


def submit(new: NewProposal, deps: Deps | None = None, *, proposed_by: str = "matcher",
           rollback_of: str | None = None, excluded_approvers: list[str] | None = None) -> bool:
    """Store the proposal and start its review execution. False if it already exists or is blocked."""
    deps = deps or default_deps()
    if blocked_by_history(new.pair_key, new.evidence_hash, deps.proposals):
        return False
    now = deps.clock().isoformat(timespec="seconds")
    item = ProposalItem(new.proposal_id, pair_key=new.pair_key, status=ProposalStatus.PENDING_REVIEW.value,
                        proposed_at=now, system=new.system, action=new.action.value, refs=list(new.refs),
                        payload=new.payload, diff=new.diff, confidence=new.confidence, reasoning=new.reasoning,
                        evidence=list(new.evidence), evidence_hash=new.evidence_hash, proposed_by=proposed_by,
                        rollback_of=rollback_of, excluded_approvers=excluded_approvers or [])
    if not deps.proposals.create(item):
        return False
    deps.audit.record("proposal.created", proposed_by, new.proposal_id,
                      {"action": new.action.value, "system": new.system, "refs": list(new.refs),
                       "evidence": list(new.evidence), "confidence": str(new.confidence),
                       "rollback_of": rollback_of})
    start_review(new.proposal_id, new.system, deps)
    return True


def start_review(proposal_id: str, system: str, deps: Deps | None = None) -> str:
    """Start the one ProposalReview execution of a proposal (named by its id, so never twice)."""
    deps = deps or default_deps()
    arn = deps.workflow.start(proposal_id, {"proposal_id": proposal_id, "system": system})
    deps.proposals.set_execution(proposal_id, arn)
    return arn
