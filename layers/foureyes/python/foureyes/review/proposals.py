"""Proposals: what the matcher suggests, and the rules of the four-eyes decision.

`approvers` of a stored proposal, and `submit`, which stores a proposal once and starts its one
`ProposalReview` execution (its repositories and the workflow come in as `Deps`). Proposals are built
from scored pairs by the matcher (`matching.index.proposal_for`); review knows proposals, never scores.

Executions are named after the proposal (`execution_name`), so starting one again is harmless: a submit
retried after a failure between the save and the start (the stream retries the batch) starts the missing
execution instead of skipping the proposal, and so does the sweeper (`review.sweep`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from foureyes import audit
from foureyes.audit import Recorder
from foureyes.model import ATS_WRITES, Action
from foureyes.review import lifecycle
from foureyes.review.lifecycle import OPEN_STATUSES, REVIEW_STATUSES, ProposalStatus
from foureyes.store.models import ProposalItem
from foureyes.store.proposals import DynamoProposals, Proposals
from foureyes.workflow import StepFunctionsWorkflow, Workflow


@dataclass(frozen=True, slots=True)
class NewProposal:
    proposal_id: str
    pair_key: str
    system: str
    action: Action
    refs: tuple[str, ...]  # a pair (left, right); an erasure names every record it erases
    payload: dict[str, Any]
    diff: dict[str, Any]
    confidence: float
    reasoning: str
    evidence: tuple[str, ...]
    evidence_hash: str
    score: float | None = None  # the matcher's score on its scorer's scale (thresholds are tuned from it)


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


def contest_pair_key(ref: str) -> str:
    """Every contest about the candidate record `ref` shares this pair key (one open at a time)."""
    return f"contest|{ref}"


def open_contest(ref: str, proposals: Proposals) -> ProposalItem | None:
    """The candidate's open contest (waiting for a team lead), if any."""
    for item in proposals.for_pair(contest_pair_key(ref)):
        if item.status == ProposalStatus.PENDING_TIEBREAK.value:
            return item
    return None


def hold_if_contested(item: ProposalItem, deps: Deps) -> str | None:
    """A proposal stored while a contest about one of its records is open is held by that contest (the contest,
    opened first, held only what it found): the contest's id, or None. Only ATS writes are held: facts, contests
    and erasures never are (an erasure is the candidate's own request, and writes nothing to an ATS)."""
    if item.fact or item.action not in {action.value for action in ATS_WRITES}:
        return None
    for ref in dict.fromkeys(item.refs or []):
        contest = open_contest(ref, deps.proposals)
        if contest is not None and deps.proposals.hold(item.proposal_id, contest.proposal_id,
                                                       tuple(s.value for s in OPEN_STATUSES),
                                                       ProposalStatus.PARKED.value):
            deps.audit.record("contest.held", "system", contest.proposal_id, {"held": [item.proposal_id]})
            return str(contest.proposal_id)
    return None


def submit(new: NewProposal, deps: Deps | None = None, *, proposed_by: str = "matcher",
           rollback_of: str | None = None, excluded_approvers: list[str] | None = None) -> bool:
    """Store the proposal and start its review execution. False if it already exists or is blocked; an existing
    proposal still waiting for review without an execution (a failed start) gets its execution now."""
    deps = deps or default_deps()
    existing = deps.proposals.get(new.proposal_id)
    if existing is not None:
        ensure_review(existing, deps)
        return False
    if blocked_by_history(new.pair_key, new.evidence_hash, deps.proposals):
        return False
    now = deps.clock().isoformat(timespec="seconds")
    item = ProposalItem(new.proposal_id, pair_key=new.pair_key, status=ProposalStatus.PENDING_REVIEW.value,
                        proposed_at=now, system=new.system, action=new.action.value, refs=list(new.refs),
                        payload=new.payload, diff=new.diff, confidence=new.confidence, reasoning=new.reasoning,
                        evidence=list(new.evidence), evidence_hash=new.evidence_hash, score=new.score,
                        proposed_by=proposed_by,
                        rollback_of=rollback_of, excluded_approvers=excluded_approvers or [])
    if not deps.proposals.create(item):
        stored = deps.proposals.get(new.proposal_id)  # a concurrent submit of the same proposal won the create
        if stored is not None:
            ensure_review(stored, deps)
        return False
    deps.audit.record("proposal.created", proposed_by, new.proposal_id,
                      {"action": new.action.value, "system": new.system, "refs": list(new.refs),
                       "evidence": list(new.evidence), "confidence": str(new.confidence),
                       "rollback_of": rollback_of})
    hold_if_contested(item, deps)
    start_review(new.proposal_id, new.system, deps, action=new.action.value)
    return True


def execution_name(proposal_id: str, run: int = 1) -> str:
    """The name of a proposal's `run`-th ProposalReview execution: its id, then `<id>-2`, `<id>-3` for restarts."""
    return proposal_id if run == 1 else f"{proposal_id}-{run}"


def execution_run(proposal_id: str, execution_arn: str) -> int:
    """Which run of the proposal's executions `execution_arn` is (the inverse of `execution_name`)."""
    name = execution_arn.rsplit(":", 1)[-1]
    suffix = name.removeprefix(f"{proposal_id}-")
    return int(suffix) if name != proposal_id and suffix.isdigit() else 1


def start_review(proposal_id: str, system: str, deps: Deps | None = None, *, run: int = 1, action: str = "") -> str:
    """Start the proposal's ProposalReview execution (named after the proposal and the run, so starting the same
    run again returns the same execution) and keep its ARN on the proposal. The input carries the action, on which
    the machine routes a contest straight to a team lead and an approved erasure to its executor instead of an
    ATS's dispatcher."""
    deps = deps or default_deps()
    payload = {"proposal_id": proposal_id, "system": system, **({"action": action} if action else {})}
    arn = deps.workflow.start(execution_name(proposal_id, run), payload)
    deps.proposals.set_execution(proposal_id, arn)
    return arn


def ensure_review(item: ProposalItem, deps: Deps, *, actor: str = "system") -> str | None:
    """Start the execution of a proposal that waits for review but has none (its start failed after the save);
    audited. Returns the ARN it started, None when the proposal needed nothing."""
    if item.fact or item.execution_arn or item.status not in {status.value for status in REVIEW_STATUSES}:
        return None
    if not item.held_by:  # the process may have died before the hold a contest opened meanwhile asks for
        hold_if_contested(item, deps)
    arn = start_review(item.proposal_id, item.system, deps, action=str(item.action))
    deps.audit.record("review.started", actor, item.proposal_id, {"why": "the proposal had no review execution",
                                                                    "execution": arn.rsplit(":", 1)[-1]})
    return arn
