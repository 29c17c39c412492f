"""The one owner of proposal statuses and their transitions.

A proposal moves: pending_review -> pending_approval -> (approved | rejected | pending_tiebreak);
pending_tiebreak -> (approved | rejected); approved -> (shadowed | in_progress -> executed | failed |
parked); parked -> in_progress (the nightly retry); executed -> rolled_back (by an executed rollback);
any pending stage -> expired (no answer after reminder and escalation); any open proposal -> withdrawn (a record it
names was erased).

A contest (the candidate objects to how their data is handled) waits for a team lead only (pending_tiebreak)
and ends upheld or dismissed; while it is open it holds every open proposal about the candidate, and upholding it
withdraws them (closed, never executed). Every status outside `OPEN_STATUSES` is final: from then on the
proposal is kept for the proposals' retention (`expiry`), then TTL removes it.

The decision write computes the next status here (`next_status`) and hands it to the state machine in
the task's output; the machine's Choice states route on that status, they do not decide it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from foureyes import retention
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
    WITHDRAWN = "withdrawn"  # a record it names was erased, or a contest a team lead upheld held it: never executed
    UPHELD = "upheld"  # a contest a team lead upheld
    DISMISSED = "dismissed"  # a contest a team lead dismissed (its holds are lifted)


OPEN_STATUSES: tuple[ProposalStatus, ...] = (
    ProposalStatus.PENDING_REVIEW, ProposalStatus.PENDING_APPROVAL, ProposalStatus.PENDING_TIEBREAK,
    ProposalStatus.APPROVED, ProposalStatus.PARKED)
REVIEW_STATUSES: tuple[ProposalStatus, ...] = (  # waiting for a person: a review execution must be running
    ProposalStatus.PENDING_REVIEW, ProposalStatus.PENDING_APPROVAL, ProposalStatus.PENDING_TIEBREAK)
DISPATCHABLE: tuple[ProposalStatus, ...] = (ProposalStatus.APPROVED, ProposalStatus.PARKED)
_STAGE_STATUS = {Stage.REVIEW: ProposalStatus.PENDING_REVIEW, Stage.APPROVE: ProposalStatus.PENDING_APPROVAL,
                 Stage.TIEBREAK: ProposalStatus.PENDING_TIEBREAK}


_OPEN = frozenset(status.value for status in OPEN_STATUSES)
# The proposal's record stays open for the dispatch side while a write is on its way (in progress).
_NOT_ENDED = _OPEN | {ProposalStatus.IN_PROGRESS.value}


def ended(status: str) -> bool:
    """Whether a proposal in `status` has reached its end (nothing more happens to it but a rollback)."""
    return status not in _NOT_ENDED


def expiry(status: str, now: datetime, kept_days: int | None) -> int | None:
    """The `expires_at` of a proposal moving to `status` at `now`: the retention from now once it has ended,
    None while it is open (an open proposal never expires) or when no retention is given."""
    if kept_days is None or not ended(status):
        return None
    return retention.after(now, kept_days)


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
