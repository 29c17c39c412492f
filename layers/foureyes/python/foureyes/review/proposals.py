"""Proposals: what the matcher suggests, and the rules of the four-eyes decision.

`approvers` of a stored proposal, and `submit`, which stores a proposal once and starts its
one `ProposalReview` execution. Proposals are built from scored pairs by the matcher
(`matching.index.proposal_for`); review knows proposals, never scores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError

from foureyes import audit
from foureyes.model import Action
from foureyes.review import lifecycle
from foureyes.review.lifecycle import OPEN_STATUSES, ProposalStatus
from foureyes.settings import env
from foureyes.store.models import ProposalItem, bound


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


def get(proposal_id: str) -> ProposalItem | None:
    model = bound(ProposalItem)
    try:
        return model.get(proposal_id, consistent_read=True)
    except model.DoesNotExist:
        return None


def blocked_by_history(pair_key: str, evidence_hash: str) -> bool:
    """True while a proposal for this pair is open, or one was rejected on the same evidence."""
    model = bound(ProposalItem)
    for item in model.by_pair.query(pair_key):
        if item.status in OPEN_STATUSES:
            return True
        if item.status == ProposalStatus.REJECTED and item.evidence_hash == evidence_hash:
            return True
    return False


def submit(new: NewProposal, sfn: Any = None, *, proposed_by: str = "matcher", rollback_of: str | None = None,
           excluded_approvers: list[str] | None = None) -> bool:
    """Store the proposal and start its review execution. False if it already exists or is blocked."""
    model = bound(ProposalItem)
    if blocked_by_history(new.pair_key, new.evidence_hash):
        return False
    now = datetime.now(UTC).isoformat(timespec="seconds")
    item = model(new.proposal_id, pair_key=new.pair_key, status=ProposalStatus.PENDING_REVIEW, proposed_at=now,
                 system=new.system, action=new.action.value, refs=list(new.refs), payload=new.payload,
                 diff=new.diff, confidence=new.confidence, reasoning=new.reasoning, evidence=list(new.evidence),
                 evidence_hash=new.evidence_hash, proposed_by=proposed_by, rollback_of=rollback_of,
                 excluded_approvers=excluded_approvers or [])
    try:
        item.save(condition=model.proposal_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    audit.record("proposal.created", proposed_by, new.proposal_id,
                 {"action": new.action.value, "system": new.system, "refs": list(new.refs),
                  "evidence": list(new.evidence), "confidence": str(new.confidence), "rollback_of": rollback_of})
    start_review(new.proposal_id, new.system, sfn)
    return True


def start_review(proposal_id: str, system: str, sfn: Any = None) -> str:
    """Start the one ProposalReview execution of a proposal (named by its id, so never twice)."""
    if sfn is None:
        import boto3

        sfn = boto3.client("stepfunctions")
    try:
        arn = sfn.start_execution(stateMachineArn=env("STATE_MACHINE_ARN"), name=proposal_id,
                                  input=json.dumps({"proposal_id": proposal_id, "system": system}))["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        arn = env("STATE_MACHINE_ARN").replace(":stateMachine:", ":execution:") + f":{proposal_id}"
    model = bound(ProposalItem)
    model(proposal_id).update(actions=[model.execution_arn.set(arn)])
    return str(arn)
