"""Checkpoints, leases and ATS session/token stores in the checkpoints table (DynamoDB)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from foureyes.ats.bullhorn import BullhornTokens
from foureyes.ats.otys import OtysSession
from foureyes.errors import Conflict
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
        try:
            model(key, owner=owner, lease_until=now + seconds).save(
                condition=model.checkpoint_id.does_not_exist() | (model.lease_until < now))
            break
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            if time.monotonic() > deadline:
                raise Conflict(f"lease {name} is held by another process") from exc
            time.sleep(0.2)
    try:
        yield owner
    finally:
        try:
            model(key).delete(condition=model.owner == owner)
        except DeleteError:
            pass  # expired and taken over: nothing of ours to release


class DynamoTokenStore:
    """Bullhorn tokens per tenant; the lease serialises the single-use refresh across Lambdas."""

    def load(self, tenant: str) -> BullhornTokens | None:
        data = load(f"bullhorn-tokens#{tenant}")
        return BullhornTokens(**data) if data else None

    def save(self, tenant: str, tokens: BullhornTokens) -> None:
        save(f"bullhorn-tokens#{tenant}", {"refresh_token": tokens.refresh_token, "access_token": tokens.access_token,
                                           "access_expires_at": tokens.access_expires_at,
                                           "rest_token": tokens.rest_token, "rest_url": tokens.rest_url})

    def lock(self, tenant: str) -> Any:
        return lease(f"bullhorn-refresh#{tenant}")


class DynamoSessionStore:
    """One Otys session per tenant, reused by every invocation until it expires."""

    def load(self, tenant: str) -> OtysSession | None:
        data = load(f"otys-session#{tenant}")
        return OtysSession(**data) if data else None

    def save(self, tenant: str, session: OtysSession) -> None:
        save(f"otys-session#{tenant}", {"token": session.token, "expires_at": session.expires_at})

    def discard(self, tenant: str, token: str) -> None:
        current = self.load(tenant)
        if current is not None and current.token == token:
            bound(CheckpointItem)(f"otys-session#{tenant}").delete()

    def lock(self, tenant: str) -> Any:
        return lease(f"otys-login#{tenant}")
