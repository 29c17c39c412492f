"""Repositories of the proposals and review-tasks tables: every read and conditional write review and dispatch make.

Records are the pynamodb items of `store.models` (plain objects without I/O until a repository saves them).
The `Protocol`s are what the rooms depend on; `Dynamo*` implement them on DynamoDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from foureyes.store.conditional import conditional
from foureyes.store.models import RESUME_DUE, ProposalItem, ReviewTaskItem, bound


class Proposals(Protocol):
    def get(self, proposal_id: str) -> ProposalItem | None: ...

    def for_pair(self, pair_key: str) -> list[ProposalItem]: ...

    def create(self, item: ProposalItem) -> bool:
        """Store a new proposal; False when one with its id exists."""
        ...

    def set_execution(self, proposal_id: str, execution_arn: str) -> None: ...

    def set_status(self, proposal_id: str, status: str, outcome: str, *, executed_at: str | None = None) -> None: ...

    def transition(self, proposal_id: str, from_status: str, to_status: str, outcome: str) -> bool:
        """Move the proposal from `from_status` to `to_status`; False when its status was no longer `from_status`."""
        ...

    def with_status(self, status: str, limit: int | None = None) -> list[ProposalItem]:
        """Proposals in `status`, oldest first."""
        ...

    def count_with_status(self, status: str) -> int: ...


@dataclass(frozen=True, slots=True)
class StageDecision:
    """One person's decision of one stage, written with the conditions that keep four eyes four.

    `differs_from` names the proposal's person fields whose value must not be `person` (e.g. the reviewer at
    the approval stage); `not_excluded` also refuses anyone in the proposal's `excluded_approvers`.
    """

    proposal_id: str
    stage: str
    link_id: str
    nonce: str
    person: str
    decision: str
    reason: str
    decided_at: str
    from_status: str
    to_status: str
    differs_from: tuple[str, ...] = ()
    not_excluded: bool = False


class ReviewTasks(Protocol):
    def get(self, proposal_id: str, stage: str) -> ReviewTaskItem | None: ...

    def put(self, task: ReviewTaskItem) -> None: ...

    def open(self, task: ReviewTaskItem) -> bool:
        """Store the pending task of a stage's run; False (nothing written) when the stage was already decided."""
        ...

    def decide(self, decision: StageDecision) -> bool:
        """Record the decision on the task and the proposal in one transaction; False when any condition failed
        (already decided, a stale link or nonce, the status moved, or the person may not decide this stage).
        The task is marked `resume` due until `resumed` says its execution heard the decision."""
        ...

    def retoken(self, proposal_id: str, stage: str, task_token: str) -> None:
        """A decided stage is waited on again (a new run of its task): keep the new token, mark the resume due."""
        ...

    def resumed(self, proposal_id: str, stage: str, at: str) -> None:
        """The execution heard the decision (or no longer waits for it): clear the `resume` mark."""
        ...

    def to_resume(self, decided_before: str, limit: int | None = None) -> list[ReviewTaskItem]:
        """Decided tasks still marked `resume` due, decided before `decided_before` (oldest first)."""
        ...


_STAGE_FIELDS = {"review": ("reviewed_by", "review_decision", "review_reason"),
                 "approve": ("approved_by", "approval_decision", "approval_reason"),
                 "tiebreak": ("tiebreak_by", "tiebreak_decision", "tiebreak_reason")}


def stage_fields(stage: str) -> tuple[str, str, str]:
    """The proposal's (by, decision, reason) attribute names for `stage`."""
    return _STAGE_FIELDS[stage]


class DynamoProposals:
    def get(self, proposal_id: str) -> ProposalItem | None:
        model = bound(ProposalItem)
        try:
            return model.get(proposal_id, consistent_read=True)
        except DoesNotExist:
            return None

    def for_pair(self, pair_key: str) -> list[ProposalItem]:
        return list(bound(ProposalItem).by_pair.query(pair_key))

    def create(self, item: ProposalItem) -> bool:
        model = bound(ProposalItem)
        stored = model.from_raw_data(item.serialize())
        return conditional(lambda: stored.save(condition=model.proposal_id.does_not_exist()))

    def set_execution(self, proposal_id: str, execution_arn: str) -> None:
        model = bound(ProposalItem)
        model(proposal_id).update(actions=[model.execution_arn.set(execution_arn)])

    def set_status(self, proposal_id: str, status: str, outcome: str, *, executed_at: str | None = None) -> None:
        model = bound(ProposalItem)
        actions: list[Action] = [model.status.set(status), model.outcome.set(outcome)]
        if executed_at is not None:
            actions.append(model.executed_at.set(executed_at))
        model(proposal_id).update(actions=actions)

    def transition(self, proposal_id: str, from_status: str, to_status: str, outcome: str) -> bool:
        model = bound(ProposalItem)
        return conditional(lambda: model(proposal_id).update(
            actions=[model.status.set(to_status), model.outcome.set(outcome)],
            condition=model.proposal_id.exists() & (model.status == from_status)))

    def with_status(self, status: str, limit: int | None = None) -> list[ProposalItem]:
        return list(bound(ProposalItem).by_status.query(status, limit=limit))

    def count_with_status(self, status: str) -> int:
        return int(bound(ProposalItem).by_status.count(status))


class DynamoReviewTasks:
    def get(self, proposal_id: str, stage: str) -> ReviewTaskItem | None:
        model = bound(ReviewTaskItem)
        try:
            return model.get(proposal_id, stage, consistent_read=True)
        except DoesNotExist:
            return None

    def put(self, task: ReviewTaskItem) -> None:
        bound(ReviewTaskItem).from_raw_data(task.serialize()).save()

    def open(self, task: ReviewTaskItem) -> bool:
        model = bound(ReviewTaskItem)
        stored = model.from_raw_data(task.serialize())
        return conditional(lambda: stored.save(condition=model.proposal_id.does_not_exist()
                                               | (model.status == "pending")))

    def retoken(self, proposal_id: str, stage: str, task_token: str) -> None:
        model = bound(ReviewTaskItem)
        model(proposal_id, stage).update(actions=[model.task_token.set(task_token), model.resume.set(RESUME_DUE)])

    def resumed(self, proposal_id: str, stage: str, at: str) -> None:
        model = bound(ReviewTaskItem)
        model(proposal_id, stage).update(actions=[model.resume.remove(), model.resumed_at.set(at)])

    def to_resume(self, decided_before: str, limit: int | None = None) -> list[ReviewTaskItem]:
        model = bound(ReviewTaskItem)
        return list(model.to_resume.query(RESUME_DUE, model.decided_at < decided_before, limit=limit))

    def decide(self, decision: StageDecision) -> bool:
        tasks, model = bound(ReviewTaskItem), bound(ProposalItem)
        by, verdict, why = (getattr(model, name) for name in stage_fields(decision.stage))
        condition: Condition = (model.status == decision.from_status) & by.does_not_exist()
        for person_field in decision.differs_from:
            condition &= getattr(model, person_field) != decision.person
        if decision.not_excluded:
            condition &= ~model.excluded_approvers.contains(decision.person)
        try:
            with TransactWrite(connection=Connection()) as transaction:
                transaction.update(
                    tasks(decision.proposal_id, decision.stage),
                    actions=[tasks.status.set("decided"), tasks.decision.set(decision.decision),
                             tasks.reason.set(decision.reason), tasks.decided_at.set(decision.decided_at),
                             tasks.resume.set(RESUME_DUE)],
                    condition=(tasks.status == "pending") & (tasks.nonce == decision.nonce)
                    & (tasks.link_id == decision.link_id))
                transaction.update(
                    model(decision.proposal_id),
                    actions=[by.set(decision.person), verdict.set(decision.decision), why.set(decision.reason),
                             model.status.set(decision.to_status)],
                    condition=condition)
        except TransactWriteError:
            return False
        return True

