"""Checkpoints, leases and per-tenant ATS connection state in the checkpoints table (DynamoDB).

Everything here is plain dicts: what they mean (a checkpoint's cursor, an OAuth token set, a login
session) is up to the room that writes them (the ATS adapters convert to and from their own types).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pynamodb.exceptions import DoesNotExist

from foureyes.errors import Conflict
from foureyes.store.conditional import conditional
from foureyes.store.models import CheckpointItem, bound


def load(name: str) -> dict[str, Any] | None:
    model = bound(CheckpointItem)
    try:
        data: dict[str, Any] = model.get(name, consistent_read=True).data
        return data
    except DoesNotExist:
        return None


def save(name: str, data: dict[str, Any]) -> None:
    bound(CheckpointItem)(name, data=data, updated_at=datetime.now(UTC).isoformat(timespec="seconds")).save()


@contextmanager
def lease(name: str, seconds: int = 60, wait: float = 30.0) -> Iterator[str]:
    """An exclusive lease across processes (a conditional put with an expiry); waits up to `wait` s."""
    model = bound(CheckpointItem)
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    key = f"lease#{name}"
    while True:
        now = time.time()
        free = model.checkpoint_id.does_not_exist() | (model.lease_until < now)
        if conditional(partial(model(key, owner=owner, lease_until=now + seconds).save, condition=free)):
            break
        if time.monotonic() > deadline:
            raise Conflict(f"lease {name} is held by another process")
        time.sleep(0.2)
    try:
        yield owner
    finally:
        # A lease that expired and was taken over is not ours to release: the condition then fails quietly.
        conditional(lambda: model(key).delete(condition=model.owner == owner))


class ConnectionState:
    """One kind of per-tenant connection state (an OAuth token set, a login session) as a plain dict.

    Items are `<kind>#<tenant>`; `lock(tenant)` is the lease `<lock>#<tenant>`, which serialises renewals
    of one tenant's state across every Lambda (a single-use refresh token, a capped number of sessions).
    """

    def __init__(self, kind: str, lock: str) -> None:
        self.kind, self._lock = kind, lock

    def _key(self, tenant: str) -> str:
        return f"{self.kind}#{tenant}"

    def load(self, tenant: str) -> dict[str, Any] | None:
        return load(self._key(tenant)) or None

    def save(self, tenant: str, data: Mapping[str, Any]) -> None:
        save(self._key(tenant), dict(data))

    def delete(self, tenant: str) -> None:
        bound(CheckpointItem)(self._key(tenant)).delete()

    def lock(self, tenant: str) -> AbstractContextManager[str]:
        return lease(f"{self._lock}#{tenant}")
