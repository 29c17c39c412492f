"""The review workflow as the rooms see it: start one ProposalReview execution per proposal, resume the
stage a person decided, and ask how an execution is doing (the sweeper). `StepFunctionsWorkflow` is the real
one (boto3, created at first use)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from foureyes.errors import Conflict, TaskGone
from foureyes.settings import settings

RUNNING = "RUNNING"


@dataclass(frozen=True, slots=True)
class Execution:
    """What the sweeper needs to know of an execution: its status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT,
    ABORTED) and, when it failed, the error it ended with (e.g. `Foureyes.ReviewExpired`)."""

    status: str
    error: str | None = None

    @property
    def ended(self) -> bool:
        return self.status != RUNNING


class Workflow(Protocol):
    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        """Start the execution called `name`. Idempotent: the same name with the same input returns the first
        one's ARN (running or ended); the same name with another input raises `Conflict`."""
        ...

    def resume(self, task_token: str, output: Mapping[str, Any]) -> None:
        """Complete the waiting task of a stage with the person's decision. Raises `TaskGone` when no task
        waits on the token any more; any other exception is a failure worth retrying."""
        ...

    def describe(self, execution_arn: str) -> Execution | None:
        """The execution's status; None when there is no such execution."""
        ...

    def stop(self, execution_arn: str, cause: str) -> None:
        """Stop a running execution (a proposal that was withdrawn no longer waits for anyone); an execution that
        already ended, or does not exist, is left as it is."""
        ...


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN Step Functions gives the execution `name` of a (standard) state machine."""
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


_GONE = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


class StepFunctionsWorkflow:
    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("stepfunctions")
        return self._client

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        machine = settings().state_machine_arn
        try:
            reply = self.client.start_execution(stateMachineArn=machine, name=name, input=json.dumps(dict(payload)))
        except self.client.exceptions.ExecutionAlreadyExists:
            # Standard workflows: the same name and input of a *running* execution is answered with its ARN; an
            # ended one (or another input) raises. Started before with the same input is started: fine.
            arn = execution_arn(machine, name)
            described = self.client.describe_execution(executionArn=arn)
            if json.loads(described.get("input") or "null") != json.loads(json.dumps(dict(payload))):
                raise Conflict(f"execution {name} already exists with another input") from None
            return arn
        return str(reply["executionArn"])

    def resume(self, task_token: str, output: Mapping[str, Any]) -> None:
        try:
            self.client.send_task_success(taskToken=task_token, output=json.dumps(dict(output)))
        except self.client.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _GONE:
                raise TaskGone(f"the task no longer waits ({code})") from None  # the token is never in a message
            raise

    def describe(self, execution_arn: str) -> Execution | None:
        try:
            described = self.client.describe_execution(executionArn=execution_arn)
        except self.client.exceptions.ExecutionDoesNotExist:
            return None
        return Execution(str(described["status"]), described.get("error"))

    def stop(self, execution_arn: str, cause: str) -> None:
        try:
            self.client.stop_execution(executionArn=execution_arn, error="Foureyes.Withdrawn", cause=cause[:200])
        except self.client.exceptions.ExecutionDoesNotExist:
            return
