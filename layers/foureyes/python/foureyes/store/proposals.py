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

    def set_status(self, proposal_id: str, status: str, outcome: str, *, executed_at: str | None = None,
                   expires_at: int | None = None) -> None:
        """Set the status (and `expires_at`, the retention of a proposal that reached its end)."""
        ...

    def transition(self, proposal_id: str, from_status: str, to_status: str, outcome: str, *,
                   expires_at: int | None = None) -> bool:
        """Move the proposal from `from_status` to `to_status`; False when its status was no longer `from_status`."""
        ...

    def ended_without_expiry(self, status: str, proposed_since: str, limit: int) -> list[ProposalItem]:
        """Proposals in the final `status`, proposed since `proposed_since`, that carry no `expires_at` yet (a
        status written where no retention could be computed: the state machine's own MarkExpired)."""
        ...

    def set_expiry(self, proposal_id: str, expires_at: int) -> None: ...

    def open_about(self, ref: str, statuses: tuple[str, ...]) -> list[ProposalItem]:
        """Proposals in one of `statuses` whose refs include `ref`."""
        ...

    def hold(self, proposal_id: str, contest_id: str, open_statuses: tuple[str, ...], claimed_status: str) -> bool:
        """Hold an open proposal for the contest `contest_id`, in one transaction with a check that no dispatch
        has claimed its write (its dispatch record is absent or `claimed_status`, i.e. parked). False when the
        proposal is no longer open, already held, or its write is being (or was) sent."""
        ...

    def release(self, proposal_id: str, contest_id: str) -> bool:
        """Lift the hold of `contest_id`; False when it did not hold the proposal."""
        ...

    def withdraw(self, proposal_id: str, contest_id: str, to_status: str, outcome: str, expires_at: int | None) -> bool:
        """Close a proposal the contest `contest_id` holds (never executed); False when it did not hold it."""
        ...

    def set_statements(self, proposal_id: str, statements: list[dict[str, str]], previous: list[dict[str, str]],
                       while_status: str) -> bool:
        """Replace an open contest's statements (`previous` plus one more, read before); False when they changed
        meanwhile or the contest is no longer `while_status`."""
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
    task_expires_at: int | None = None  # the task's retention after the decision
    expires_at: int | None = None  # the proposal's, when the decision ends it (rejected, a contest decided)
    not_held: bool = True  # refused while a contest holds the proposal


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

    def pending_for(self, assignee: str, limit: int = 100) -> list[ReviewTaskItem]:
        """The stages waiting for `assignee`'s decision (their queue), oldest first."""
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

    def set_status(self, proposal_id: str, status: str, outcome: str, *, executed_at: str | None = None,
                   expires_at: int | None = None) -> None:
        model = bound(ProposalItem)
        actions: list[Action] = [model.status.set(status), model.outcome.set(outcome)]
        if executed_at is not None:
            actions.append(model.executed_at.set(executed_at))
        if expires_at is not None:
            actions.append(model.expires_at.set(expires_at))
        model(proposal_id).update(actions=actions)

    def transition(self, proposal_id: str, from_status: str, to_status: str, outcome: str, *,
                   expires_at: int | None = None) -> bool:
        model = bound(ProposalItem)
        actions: list[Action] = [model.status.set(to_status), model.outcome.set(outcome)]
        if expires_at is not None:
            actions.append(model.expires_at.set(expires_at))
        return conditional(lambda: model(proposal_id).update(
            actions=actions, condition=model.proposal_id.exists() & (model.status == from_status)))

    def ended_without_expiry(self, status: str, proposed_since: str, limit: int) -> list[ProposalItem]:
        model = bound(ProposalItem)
        return list(model.by_status.query(status, model.proposed_at >= proposed_since,
                                          filter_condition=model.expires_at.does_not_exist(), limit=limit))

    def set_expiry(self, proposal_id: str, expires_at: int) -> None:
        model = bound(ProposalItem)
        conditional(lambda: model(proposal_id).update(
            actions=[model.expires_at.set(expires_at)],
            condition=model.proposal_id.exists() & model.expires_at.does_not_exist()))

    def open_about(self, ref: str, statuses: tuple[str, ...]) -> list[ProposalItem]:
        model = bound(ProposalItem)
        return [item for status in statuses
                for item in model.by_status.query(status, filter_condition=model.refs.contains(ref))]

    def hold(self, proposal_id: str, contest_id: str, open_statuses: tuple[str, ...], claimed_status: str) -> bool:
        from foureyes.store.models import DispatchItem

        model, dispatches = bound(ProposalItem), bound(DispatchItem)
        try:
            with TransactWrite(connection=Connection()) as transaction:
                transaction.update(model(proposal_id), actions=[model.held_by.set(contest_id)],
                                   condition=model.status.is_in(*open_statuses) & model.held_by.does_not_exist())
                transaction.condition_check(dispatches, proposal_id,
                                            condition=dispatches.proposal_id.does_not_exist()
                                            | (dispatches.status == claimed_status))
        except TransactWriteError:
            return False
        return True

    def release(self, proposal_id: str, contest_id: str) -> bool:
        model = bound(ProposalItem)
        return conditional(lambda: model(proposal_id).update(actions=[model.held_by.remove()],
                                                             condition=model.held_by == contest_id))

    def withdraw(self, proposal_id: str, contest_id: str, to_status: str, outcome: str, expires_at: int | None) -> bool:
        model = bound(ProposalItem)
        actions: list[Action] = [model.status.set(to_status), model.outcome.set(outcome)]
        if expires_at is not None:
            actions.append(model.expires_at.set(expires_at))
        return conditional(lambda: model(proposal_id).update(actions=actions, condition=model.held_by == contest_id))

    def set_statements(self, proposal_id: str, statements: list[dict[str, str]], previous: list[dict[str, str]],
                       while_status: str) -> bool:
        model = bound(ProposalItem)
        return conditional(lambda: model(proposal_id).update(
            actions=[model.contest_statements.set(statements)],
            condition=(model.status == while_status) & (model.contest_statements == previous)))

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

    def pending_for(self, assignee: str, limit: int = 100) -> list[ReviewTaskItem]:
        model = bound(ReviewTaskItem)
        found = model.by_assignee.query(assignee, filter_condition=model.status == "pending", page_size=limit)
        return [task for _, task in zip(range(limit), found, strict=False)]

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
        if decision.not_held:
            condition &= model.held_by.does_not_exist()
        try:
            with TransactWrite(connection=Connection()) as transaction:
                task_actions: list[Action] = [
                    tasks.status.set("decided"), tasks.decision.set(decision.decision),
                    tasks.reason.set(decision.reason), tasks.decided_at.set(decision.decided_at),
                    tasks.resume.set(RESUME_DUE)]
                if decision.task_expires_at is not None:
                    task_actions.append(tasks.expires_at.set(decision.task_expires_at))
                proposal_actions: list[Action] = [
                    by.set(decision.person), verdict.set(decision.decision), why.set(decision.reason),
                    model.status.set(decision.to_status)]
                if decision.expires_at is not None:
                    proposal_actions.append(model.expires_at.set(decision.expires_at))
                transaction.update(
                    tasks(decision.proposal_id, decision.stage),
                    actions=task_actions,
                    condition=(tasks.status == "pending") & (tasks.nonce == decision.nonce)
                    & (tasks.link_id == decision.link_id))
                transaction.update(model(decision.proposal_id), actions=proposal_actions, condition=condition)
        except TransactWriteError:
            return False
        return True

