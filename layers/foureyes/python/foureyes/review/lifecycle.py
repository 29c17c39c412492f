"""The one owner of proposal statuses and their transitions.

A proposal moves: pending_review -> pending_approval -> (approved | rejected | pending_tiebreak);
pending_tiebreak -> (approved | rejected); approved -> (shadowed | in_progress -> executed | failed |
parked); parked -> in_progress (the nightly retry); executed -> rolled_back (by an executed rollback);
any pending stage -> expired (no answer after reminder and escalation); any open proposal -> withdrawn (a record it
names was erased).

The decision write computes the next status here (`next_status`) and hands it to the state machine in
the task's output; the machine's Choice states route on that status, they do not decide it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from foureyes.model import Decision, Stage


class ProposalStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    PENDING_APPROVAL = "pending_approval"
    PENDING_TIEBREAK = "pending_tiebreak"
    APPROVED = "approved"
    REJECTED = "rejected"
    SHADOWED = "shadowed"
    IN_PROGRESS = "in_progress"  # a live write was started and has not recorded its end
    EXECUTED = "executed"
    PARKED = "parked"
    EXPIRED = "expired"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"  # a record it names was erased: nothing of it is decided or written any more


OPEN_STATUSES: tuple[ProposalStatus, ...] = (
    ProposalStatus.PENDING_REVIEW, ProposalStatus.PENDING_APPROVAL, ProposalStatus.PENDING_TIEBREAK,
    ProposalStatus.APPROVED, ProposalStatus.PARKED)
REVIEW_STATUSES: tuple[ProposalStatus, ...] = (  # waiting for a person: a review execution must be running
    ProposalStatus.PENDING_REVIEW, ProposalStatus.PENDING_APPROVAL, ProposalStatus.PENDING_TIEBREAK)
DISPATCHABLE: tuple[ProposalStatus, ...] = (ProposalStatus.APPROVED, ProposalStatus.PARKED)
_STAGE_STATUS = {Stage.REVIEW: ProposalStatus.PENDING_REVIEW, Stage.APPROVE: ProposalStatus.PENDING_APPROVAL,
                 Stage.TIEBREAK: ProposalStatus.PENDING_TIEBREAK}


def next_status(review: str | None, approval: str | None, tiebreak: str | None) -> ProposalStatus:
    """The proposal's status from the decisions so far."""
    if review is None:
        return ProposalStatus.PENDING_REVIEW
    if approval is None:
        return ProposalStatus.PENDING_APPROVAL
    if review == approval:
        return ProposalStatus.APPROVED if review == Decision.APPROVE else ProposalStatus.REJECTED
    if tiebreak is None:
        return ProposalStatus.PENDING_TIEBREAK
    return ProposalStatus.APPROVED if tiebreak == Decision.APPROVE else ProposalStatus.REJECTED


def stage_status(stage: Stage) -> ProposalStatus:
    """The status a proposal has while `stage` waits for its decision."""
    return _STAGE_STATUS[stage]


def approvers(decisions: Iterable[tuple[str | None, str | None]]) -> set[str]:
    """The distinct people among (person, decision) pairs who approved."""
    return {person for person, decision in decisions if person and decision == Decision.APPROVE}
