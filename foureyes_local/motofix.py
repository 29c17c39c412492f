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
