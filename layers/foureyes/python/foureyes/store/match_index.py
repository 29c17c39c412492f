"""Repositories of the match-key index (one item per blocking key and record) and of the near-misses."""

from __future__ import annotations

from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist

from foureyes.store.conditional import conditional
from foureyes.store.models import MatchKeyItem, NearMissItem, bound


class MatchKeys(Protocol):
    def records_under(self, key: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """Up to `limit` (ref, normalised record) pairs filed under `key`."""
        ...

    def put(self, key: str, ref: str, record: dict[str, Any], updated_at: str, expires_at: int | None = None) -> None:
        ...

    def refresh(self, key: str, ref: str, expires_at: int) -> None:
        """Move the key's `expires_at` (its record was delivered again); nothing when the key is gone."""
        ...

    def delete(self, key: str, ref: str) -> None: ...


class NearMisses(Protocol):
    def get(self, pair: str) -> NearMissItem | None: ...

    def put(self, item: NearMissItem) -> None: ...

    def sighted(self, pair: str, score: float, at: str, expires_at: int, promoted: bool) -> None:
        """One more sighting of `pair`: its count, last sighting, score, expiry and promotion."""
        ...


class DynamoMatchKeys:
    def records_under(self, key: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        return [(item.ref, item.record) for item in bound(MatchKeyItem).query(key, limit=limit)]

    def put(self, key: str, ref: str, record: dict[str, Any], updated_at: str, expires_at: int | None = None) -> None:
        bound(MatchKeyItem)(key, ref, record=record, updated_at=updated_at, expires_at=expires_at).save()

    def refresh(self, key: str, ref: str, expires_at: int) -> None:
        model = bound(MatchKeyItem)
        conditional(lambda: model(key, ref).update(actions=[model.expires_at.set(expires_at)],
                                                   condition=model.ref.exists()))

    def delete(self, key: str, ref: str) -> None:
        bound(MatchKeyItem)(key, ref).delete()


class DynamoNearMisses:
    def get(self, pair: str) -> NearMissItem | None:
        try:
            return bound(NearMissItem).get(pair, consistent_read=True)
        except DoesNotExist:
            return None

    def put(self, item: NearMissItem) -> None:
        bound(NearMissItem).from_raw_data(item.serialize()).save()

    def sighted(self, pair: str, score: float, at: str, expires_at: int, promoted: bool) -> None:
        model = bound(NearMissItem)
        model(pair).update(actions=[model.sightings.add(1), model.last_seen.set(at), model.score.set(score),
                                    model.expires_at.set(expires_at), model.promoted.set(promoted)])
