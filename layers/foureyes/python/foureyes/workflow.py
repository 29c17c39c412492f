"""The review workflow as the rooms see it: start one ProposalReview execution per proposal, and resume the
stage a person decided. `StepFunctionsWorkflow` is the real one (boto3, created at first use)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from foureyes.settings import settings


class Workflow(Protocol):
    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        """Start the execution called `name` (idempotent: the same name again returns the first one's ARN)."""
        ...

    def resume(self, task_token: str, output: Mapping[str, Any]) -> None:
        """Complete the waiting task of a stage with the person's decision."""
        ...


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
            return machine.replace(":stateMachine:", ":execution:") + f":{name}"
        return str(reply["executionArn"])

    def resume(self, task_token: str, output: Mapping[str, Any]) -> None:
        self.client.send_task_success(taskToken=task_token, output=json.dumps(dict(output)))
