"""Proposals: what the matcher suggests, and the rules of the four-eyes decision.

Pure rules (`build`, `next_status`, `approvers`) plus `submit`, which stores a proposal once and
starts its one `ProposalReview` execution.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError

from foureyes import audit
from foureyes.ats.calls import call_for
from foureyes.config import env
from foureyes.match import HARD, MatchConfig, ScoredPair
from foureyes.model import Action, Candidate, Decision, ProposalStatus, Stage
from foureyes.store.models import ProposalItem, bound

OPEN_STATUSES = {ProposalStatus.PENDING_REVIEW, ProposalStatus.PENDING_APPROVAL, ProposalStatus.PENDING_TIEBREAK,
                 ProposalStatus.APPROVED, ProposalStatus.PARKED}


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


def _evidence_hash(pair: ScoredPair) -> str:
    return hashlib.sha256(json.dumps([pair.evidence, round(pair.score, 3)]).encode()).hexdigest()[:16]


def build(pair: ScoredPair, left: Candidate, right: Candidate, config: MatchConfig) -> NewProposal:
    """The proposal for a scored pair: hard -> merge_candidates, review -> tag_duplicate.

    The write goes to the left record's system (the survivor by ref order). The id is derived from
    the pair and its evidence, so a re-delivered change proposes nothing new.
    """
    action = Action.MERGE_CANDIDATES if pair.decision == HARD else Action.TAG_DUPLICATE
    payload = call_for(action, left, right.ref)
    evidence_hash = _evidence_hash(pair)
    pair_key = f"{pair.left}|{pair.right}"
    proposal_id = hashlib.sha256(f"{pair_key}|{evidence_hash}".encode()).hexdigest()[:24]
    field = "duplicate_of" if action is Action.TAG_DUPLICATE else "merged_with"
    diff = {"target": left.ref, "before": {field: None}, "after": {field: right.ref}}
    return NewProposal(proposal_id, pair_key, left.system, action, (left.ref, right.ref), payload, diff,
                       pair.confidence(config), pair.explanation(), pair.evidence, evidence_hash)


def next_status(review: str | None, approval: str | None, tiebreak: str | None) -> ProposalStatus:
    """The proposal's status from the decisions so far (mirrors the state machine's Choice states)."""
    if review is None:
        return ProposalStatus.PENDING_REVIEW
    if approval is None:
        return ProposalStatus.PENDING_APPROVAL
    if review == approval:
        return ProposalStatus.APPROVED if review == Decision.APPROVE else ProposalStatus.REJECTED
    if tiebreak is None:
        return ProposalStatus.PENDING_TIEBREAK
    return ProposalStatus.APPROVED if tiebreak == Decision.APPROVE else ProposalStatus.REJECTED


def approvers(item: ProposalItem) -> set[str]:
    """The distinct people whose approval this proposal carries."""
    people = set()
    if item.review_decision == Decision.APPROVE and item.reviewed_by:
        people.add(item.reviewed_by)
    if item.approval_decision == Decision.APPROVE and item.approved_by:
        people.add(item.approved_by)
    if item.tiebreak_decision == Decision.APPROVE and item.tiebreak_by:
        people.add(item.tiebreak_by)
    return people


def stage_status(stage: Stage) -> ProposalStatus:
    return {Stage.REVIEW: ProposalStatus.PENDING_REVIEW, Stage.APPROVE: ProposalStatus.PENDING_APPROVAL,
            Stage.TIEBREAK: ProposalStatus.PENDING_TIEBREAK}[stage]


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
