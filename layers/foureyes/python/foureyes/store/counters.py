"""Repository of the counters table: round-robin turns, reviewers' decision counts, daily dispatch caps."""

from __future__ import annotations

from typing import Protocol

from foureyes.store.conditional import conditional
from foureyes.store.models import CounterItem, bound


class Counters(Protocol):
    def add(self, key: str, amount: int = 1) -> int:
        """Add `amount` atomically; the new value."""
        ...

    def take(self, key: str, limit: int, expires_at: int) -> bool:
        """Add one if the value is below `limit` (atomic under concurrency); False when the limit is reached."""
        ...

    def values(self, prefixes: tuple[str, ...]) -> dict[str, int]:
        """Every counter whose key starts with one of `prefixes`."""
        ...


class DynamoCounters:
    def add(self, key: str, amount: int = 1) -> int:
        model = bound(CounterItem)
        counter = model(key)
        counter.update(actions=[model.value.add(amount)])
        return int(counter.value)

    def take(self, key: str, limit: int, expires_at: int) -> bool:
        model = bound(CounterItem)
        counter = model(key)
        return conditional(lambda: counter.update(
            actions=[model.value.add(1), model.expires_at.set(expires_at)],
            condition=model.value.does_not_exist() | (model.value < limit)))

    def values(self, prefixes: tuple[str, ...]) -> dict[str, int]:
        return {item.counter: int(item.value) for item in bound(CounterItem).scan()
                if item.counter.startswith(prefixes)}
