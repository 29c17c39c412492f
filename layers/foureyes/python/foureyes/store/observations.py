"""Repository of the observations table (shadow-mode agreement): recruiters' own actions and shadowed
proposals, one partition per day and system, each stored once."""

from __future__ import annotations

from typing import Protocol

from foureyes.store.conditional import conditional
from foureyes.store.models import ObservationItem, bound


class Observations(Protocol):
    def put_once(self, item: ObservationItem) -> bool:
        """Store `item` unless its key is stored already (False then)."""
        ...

    def in_partition(self, day_system: str) -> list[ObservationItem]: ...


class DynamoObservations:
    def put_once(self, item: ObservationItem) -> bool:
        model = bound(ObservationItem)
        stored = model.from_raw_data(item.serialize())
        return conditional(lambda: stored.save(condition=model.key.does_not_exist()))

    def in_partition(self, day_system: str) -> list[ObservationItem]:
        return list(bound(ObservationItem).query(day_system))
