"""Where moto differs from AWS in a way the tests would otherwise measure, and the local fix."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
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


def lock_compliance_retention() -> None:
    """Refuse, as S3 does, to shorten or weaken an object version's COMPLIANCE-mode retention while it runs.

    moto lets PutObjectRetention replace any retention (COMPLIANCE with an earlier date, or GOVERNANCE, which a
    bypass then deletes): a "locked" digest could be removed locally that no one can remove in AWS. In S3 a
    COMPLIANCE retention can only be extended, by anyone, root included. Idempotent.
    """
    from moto.s3.exceptions import AccessDeniedByLock
    from moto.s3.models import S3Backend

    if getattr(S3Backend.put_object_retention, "_foureyes_compliance", False):
        return
    original = S3Backend.put_object_retention

    def put_object_retention(self: Any, bucket_name: str, key_name: str, version_id: str | None,
                             retention: tuple[str | None, str | None]) -> None:
        key = self.get_object(bucket_name, key_name, version_id=version_id)
        if key is not None and key.lock_mode == "COMPLIANCE" and key.is_locked(governance_bypass=False):
            mode, until = retention
            if mode != "COMPLIANCE" or not until or _lock_date(until) < _lock_date(key.lock_until):
                raise AccessDeniedByLock
        original(self, bucket_name, key_name, version_id, retention)

    put_object_retention._foureyes_compliance = True  # type: ignore[attr-defined]
    S3Backend.put_object_retention = put_object_retention  # type: ignore[method-assign]


def _lock_date(text: str) -> datetime:
    """A retain-until date as moto keeps it (ISO 8601, with or without fractions), in UTC."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stop_executions_at_once() -> None:
    """Make StopExecution end an execution at once, as Step Functions does.

    moto's interpreter marks the program stopped but reports the execution RUNNING until its worker thread ends,
    and a worker waiting for a task token wakes only at the task's timeout (a day, by the template). Here the
    execution is ABORTED as soon as it is stopped (the waiting worker then ends on its own, recording nothing).
    Idempotent.
    """
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.backend.execution import Execution

    if getattr(Execution.stop, "_foureyes_at_once", False):
        return
    original = Execution.stop

    def stop(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
        original(self, stop_date, error, cause)
        if self.exec_status == ExecutionStatus.RUNNING:
            self.exec_status = ExecutionStatus.ABORTED
            self.stop_date = stop_date

    stop._foureyes_at_once = True  # type: ignore[attr-defined]
    Execution.stop = stop  # type: ignore[method-assign]
