"""Repositories of the match-key index (one item per blocking key and record) and of the near-misses.

A match-key item's `record` (the normalised record: canonical e-mails, E.164 phones, name key, birth date) is
stored sealed with the record's data key, `{"sealed": ...}`, through the `FieldCodec` handed in; an item written
before sealing holds the record itself and is read as it is. A record whose key is gone (erased) is not returned.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist

from foureyes.store.conditional import conditional
from foureyes.store.models import MatchKeyItem, NearMissItem, bound
from foureyes.store.sealed import PLAIN, FieldCodec

RECORD_FIELD = "match_record"


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

    def counts(self, keys: list[str]) -> dict[str, int]:
        """The counter items of `keys` (one request); a key never counted is absent."""
        ...

    def add_counts(self, keys: list[str], delta: int) -> None:
        """Add `delta` to each counter item of `keys` (created at 0 when absent)."""
        ...


COUNT_REF = "#count"  # the sort key of a counter item: no candidate ref starts with "#"


class NearMisses(Protocol):
    def get(self, pair: str) -> NearMissItem | None: ...

    def put(self, item: NearMissItem) -> None: ...

    def sighted(self, pair: str, score: float, at: str, expires_at: int, promoted: bool) -> None:
        """One more sighting of `pair`: its count, last sighting, score, expiry and promotion."""
        ...


class DynamoMatchKeys:
    def __init__(self, codec: FieldCodec = PLAIN) -> None:
        self._codec = codec

    def _open(self, ref: str, stored: dict[str, Any]) -> dict[str, Any] | None:
        sealed = stored.get("sealed")
        if not isinstance(sealed, str):
            return stored  # written before sealing
        opened = self._codec.open(ref, RECORD_FIELD, sealed)
        return None if opened is None else dict(json.loads(opened))

    def records_under(self, key: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for item in bound(MatchKeyItem).query(key, limit=limit):
            record = self._open(item.ref, item.record)
            if record is not None:
                found.append((item.ref, record))
        return found

    def put(self, key: str, ref: str, record: dict[str, Any], updated_at: str, expires_at: int | None = None) -> None:
        sealed = self._codec.seal(ref, RECORD_FIELD, json.dumps(record, separators=(",", ":")))
        bound(MatchKeyItem)(key, ref, record={"sealed": sealed}, updated_at=updated_at, expires_at=expires_at).save()

    def refresh(self, key: str, ref: str, expires_at: int) -> None:
        model = bound(MatchKeyItem)
        conditional(lambda: model(key, ref).update(actions=[model.expires_at.set(expires_at)],
                                                   condition=model.ref.exists()))

    def delete(self, key: str, ref: str) -> None:
        bound(MatchKeyItem)(key, ref).delete()

    def counts(self, keys: list[str]) -> dict[str, int]:
        model = bound(MatchKeyItem)
        found: dict[str, int] = {}
        wanted = list(dict.fromkeys(keys))
        for item in model.batch_get([(key, COUNT_REF) for key in wanted], attributes_to_get=["match_key", "tally"]):
            found[item.match_key] = int(item.tally or 0)
        return found

    def add_counts(self, keys: list[str], delta: int) -> None:
        model = bound(MatchKeyItem)
        for key in keys:
            model(key, COUNT_REF).update(actions=[model.tally.add(delta), model.record.set({}),
                                                  model.updated_at.set("counter")])

    def of_ref(self, ref: str) -> list[tuple[str, dict[str, Any] | None]]:
        """Every (key, opened record or None when its key is gone) filed for `ref`: a scan, for erasure and access
        requests only (the index is queried by key everywhere else, and a record's keys are keyed hashes)."""
        model = bound(MatchKeyItem)
        return [(item.match_key, self._open(ref, item.record))
                for item in model.scan(model.ref == ref, consistent_read=True)]

    def keys_of(self, ref: str) -> list[str]:
        """The keys filed for `ref` (a scan, as `of_ref`), without opening anything."""
        model = bound(MatchKeyItem)
        return [item.match_key for item in model.scan(model.ref == ref, consistent_read=True,
                                                      attributes_to_get=["match_key", "ref"])]


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

    def naming(self, ref: str) -> list[str]:
        """The pairs that name `ref` (a scan: erasure and access requests only, rare next to matching)."""
        model = bound(NearMissItem)
        return [item.pair for item in model.scan(model.pair.contains(ref), consistent_read=True)
                if ref in item.pair.split("|")]

    def delete(self, pair: str) -> None:
        bound(NearMissItem)(pair).delete()
