"""Where moto differs from AWS in a way the tests would otherwise measure, and the local fix."""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.Lock()


def serialise_dynamodb() -> None:
    """Make moto's DynamoDB handle one request at a time, as DynamoDB's isolation guarantees.

    moto applies a transaction item by item and, when a condition fails, restores a deep copy of the
    tables taken when *it* started, so two concurrent requests can interleave: half-applied writes of a
    failing transaction leak out, and another thread's committed write can be rolled back. DynamoDB
    runs TransactWriteItems serialisably. Without this, race tests would measure moto, not our code.
    Idempotent: patching twice keeps one lock.
    """
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_foureyes_serialised", False):
        return
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    call_action._foureyes_serialised = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
