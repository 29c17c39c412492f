"""Repository of the dispatches table: one record per proposal the dispatcher handled (shadowed, parked,
in progress, executed, failed), with the call sent and the receipt a rollback needs."""

from __future__ import annotations

from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from foureyes.store.conditional import conditional
from foureyes.store.models import DispatchItem, bound


class Dispatches(Protocol):
    def get(self, proposal_id: str) -> DispatchItem | None: ...

    def create(self, item: DispatchItem) -> bool:
        """Store a first record; False when the proposal already has one."""
        ...

    def start(self, item: DispatchItem, *, over_status: str) -> bool:
        """Store `item` if there is no record yet or the record is in `over_status`; False otherwise."""
        ...

    def put(self, item: DispatchItem) -> None: ...

    def transition(self, proposal_id: str, *, from_status: str, at: str, to_status: str,
                   receipt: dict[str, Any] | None = None) -> bool:
        """Move the record from `from_status` to `to_status` if it is still the one stamped `at` in `from_status`
        (so two attempts resolving the same record cannot both win); False otherwise."""
        ...

    def finish(self, proposal_id: str, status: str, receipt: dict[str, Any] | None = None) -> None: ...


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
        model = bound(DispatchItem)
        stored = model.from_raw_data(item.serialize())
        return conditional(lambda: stored.save(
            condition=model.proposal_id.does_not_exist() | (model.status == over_status)))

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
