"""Repository of the dispatches table: one record per proposal the dispatcher handled (shadowed, parked,
in progress, executed, failed), with the call sent and the receipt a rollback needs.

Claiming a write (`start`) is one transaction with a check that no contest holds the proposal: a contest's hold
(`Proposals.hold`) checks in turn that no dispatch claimed the write, so of the two, exactly one wins."""

from __future__ import annotations

from typing import Any, Protocol

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from foureyes.errors import OnHold
from foureyes.store.conditional import conditional
from foureyes.store.models import DispatchItem, ProposalItem, bound

ON_HOLD = "on hold: the candidate contested how their data is handled; a team lead decides first"


class Dispatches(Protocol):
    def get(self, proposal_id: str) -> DispatchItem | None: ...

    def create(self, item: DispatchItem) -> bool:
        """Store a first record; False when the proposal already has one."""
        ...

    def start(self, item: DispatchItem, *, over_status: str) -> bool:
        """Store `item` if there is no record yet or the record is in `over_status`; False otherwise. Raises
        `OnHold` when a contest holds the proposal (checked in the same transaction)."""
        ...

    def put(self, item: DispatchItem) -> None: ...

    def transition(self, proposal_id: str, *, from_status: str, at: str, to_status: str,
                   receipt: dict[str, Any] | None = None) -> bool:
        """Move the record from `from_status` to `to_status` if it is still the one stamped `at` in `from_status`
        (so two attempts resolving the same record cannot both win); False otherwise."""
        ...

    def finish(self, proposal_id: str, status: str, receipt: dict[str, Any] | None = None) -> None: ...

    def keep_until(self, proposal_id: str, expires_at: int) -> None:
        """Set the record's `expires_at` (its proposal reached its end); nothing when there is no record."""
        ...


class DynamoDispatches:
    def get(self, proposal_id: str) -> DispatchItem | None:
        model = bound(DispatchItem)
        try:
            return model.get(proposal_id, consistent_read=True)
        except DoesNotExist:
            return None

    def create(self, item: DispatchItem) -> bool:
        model = bound(DispatchItem)
        stored = model.from_raw_data(item.serialize())
        return conditional(lambda: stored.save(condition=model.proposal_id.does_not_exist()))

    def start(self, item: DispatchItem, *, over_status: str) -> bool:
        model, proposals = bound(DispatchItem), bound(ProposalItem)
        stored = model.from_raw_data(item.serialize())
        try:
            with TransactWrite(connection=Connection()) as transaction:
                transaction.save(stored, condition=model.proposal_id.does_not_exist() | (model.status == over_status))
                transaction.condition_check(proposals, item.proposal_id,
                                            condition=proposals.held_by.does_not_exist())
        except TransactWriteError as exc:
            reasons = list(exc.cancellation_reasons or [])
            held = len(reasons) > 1 and reasons[1] is not None and reasons[1].code == "ConditionalCheckFailed"
            if held:
                raise OnHold(ON_HOLD) from None
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                return False
            raise
        return True

    def put(self, item: DispatchItem) -> None:
        bound(DispatchItem).from_raw_data(item.serialize()).save()

    def transition(self, proposal_id: str, *, from_status: str, at: str, to_status: str,
                   receipt: dict[str, Any] | None = None) -> bool:
        model = bound(DispatchItem)
        actions: list[Action] = [model.status.set(to_status)]
        if receipt is not None:
            actions.append(model.receipt.set(receipt))
        return conditional(lambda: model(proposal_id).update(
            actions=actions, condition=(model.status == from_status) & (model.at == at)))

    def finish(self, proposal_id: str, status: str, receipt: dict[str, Any] | None = None) -> None:
        model = bound(DispatchItem)
        actions: list[Action] = [model.status.set(status)]
        if receipt is not None:
            actions.append(model.receipt.set(receipt))
        model(proposal_id).update(actions=actions)

    def keep_until(self, proposal_id: str, expires_at: int) -> None:
        model = bound(DispatchItem)
        conditional(lambda: model(proposal_id).update(actions=[model.expires_at.set(expires_at)],
                                                      condition=model.proposal_id.exists()))
