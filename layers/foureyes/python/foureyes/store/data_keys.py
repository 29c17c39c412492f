"""Repository of the data keys table: one wrapped data key per candidate record, and the tombstones of erased
records (see `DataKeyItem`). Every write is conditional, so two writers never hold two keys for one record and an
erased record never gets a key again."""

from __future__ import annotations

from typing import Protocol

from pynamodb.exceptions import DoesNotExist

from foureyes.store.conditional import conditional
from foureyes.store.models import DataKeyItem, bound


class DataKeys(Protocol):
    def get(self, ref: str) -> DataKeyItem | None:
        """The record's key item (strongly consistent), or None."""
        ...

    def create(self, ref: str, wrapped: str, key_arn: str, at: str) -> bool:
        """Store a new wrapped key; False when the record already has an item (a key, or a tombstone)."""
        ...

    def mark_erasing(self, ref: str, proposal_id: str, at: str) -> None:
        """From now on the record is being erased (ingest skips it); creates the item when there is none."""
        ...

    def destroy(self, ref: str, at: str) -> None:
        """Remove the wrapped key for good; the item stays as the tombstone (`erased_at`)."""
        ...


class DynamoDataKeys:
    def get(self, ref: str) -> DataKeyItem | None:
        try:
            return bound(DataKeyItem).get(ref, consistent_read=True)
        except DoesNotExist:
            return None

    def create(self, ref: str, wrapped: str, key_arn: str, at: str) -> bool:
        model = bound(DataKeyItem)
        item = model(ref, wrapped=wrapped, key_arn=key_arn, created_at=at)
        return conditional(lambda: item.save(condition=model.ref.does_not_exist()))

    def mark_erasing(self, ref: str, proposal_id: str, at: str) -> None:
        model = bound(DataKeyItem)
        conditional(lambda: model(ref).update(actions=[model.erasing.set(proposal_id)],
                                              condition=model.erasing.does_not_exist()))

    def destroy(self, ref: str, at: str) -> None:
        model = bound(DataKeyItem)
        conditional(lambda: model(ref).update(actions=[model.wrapped.remove(), model.key_arn.remove(),
                                                       model.erased_at.set(at)],
                                              condition=model.erased_at.does_not_exist()))
