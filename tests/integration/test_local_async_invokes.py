"""Lambda's handling of asynchronous events, locally: retries within the event's age, then the on-failure record,
the dead-letter message, or the on-success record, delivered to real SQS queues (a bare moto server)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import boto3
import pytest

from foureyes_local.stack import InvokeConfig
from foureyes_local.triggers import AsyncInvoker, Destinations
from foureyes_local.workers import InvokeResult

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:flaky"


class Flaky:
    """A function that fails its first `failures` invocations."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.events: list[Any] = []

    def __call__(self, function: str, event: Any) -> InvokeResult:
        self.events.append(event)
        if len(self.events) <= self.failures:
            return InvokeResult(json.dumps({"errorMessage": "boom", "errorType": "Boom"}).encode(), "Boom")
        return InvokeResult(b'{"ok": true}')


@pytest.fixture
def sqs(endpoint: str) -> Any:
    return boto3.client("sqs", endpoint_url=endpoint, region_name="eu-west-1",  # type: ignore[call-overload]
                        aws_access_key_id="local", aws_secret_access_key="local")


def _queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=f"destination-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _run(sqs: Any, flaky: Flaky, config: InvokeConfig) -> InvokeResult | None:
    invoker = AsyncInvoker(flaky, {"Flaky": config}, {"Flaky": ARN}, Destinations(sqs, None, lambda f, e: None),
                           threading.Event(), retry_delays=(0.01, 0.02))
    return invoker.run("Flaky", {"n": 1})


def _messages(sqs: Any, url: str) -> list[dict[str, Any]]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages", [])


def test_a_failure_is_retried_then_recorded_and_the_event_goes_to_the_dead_letter_queue(sqs: Any) -> None:
    (failures, failures_arn), (dead, dead_arn) = _queue(sqs), _queue(sqs)
    flaky = Flaky(failures=10)
    result = _run(sqs, flaky, InvokeConfig(maximum_retry_attempts=2, on_failure=failures_arn, dead_letter_arn=dead_arn))
    assert result is not None and result.error_type == "Boom" and len(flaky.events) == 3
    (message,) = _messages(sqs, failures)
    record = json.loads(message["Body"])
    assert record["requestContext"] == {"requestId": result.request_id, "functionArn": f"{ARN}:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["requestPayload"] == {"n": 1} and record["responsePayload"]["errorType"] == "Boom"
    (dead_letter,) = _messages(sqs, dead)
    assert json.loads(dead_letter["Body"]) == {"n": 1}
    assert dead_letter["MessageAttributes"]["ErrorMessage"]["StringValue"] == "boom"


def test_an_event_too_old_for_another_attempt_is_given_up_on(sqs: Any) -> None:
    failures, failures_arn = _queue(sqs)
    flaky = Flaky(failures=10)
    _run(sqs, flaky, InvokeConfig(maximum_retry_attempts=2, maximum_event_age_seconds=0, on_failure=failures_arn))
    (message,) = _messages(sqs, failures)
    assert len(flaky.events) == 1
    assert json.loads(message["Body"])["requestContext"]["condition"] == "EventAgeExceeded"


def test_a_retry_that_succeeds_goes_to_the_on_success_destination_only(sqs: Any) -> None:
    (failures, failures_arn), (successes, successes_arn) = _queue(sqs), _queue(sqs)
    flaky = Flaky(failures=1)
    result = _run(sqs, flaky, InvokeConfig(on_failure=failures_arn, on_success=successes_arn))
    assert result is not None and result.ok and len(flaky.events) == 2
    assert _messages(sqs, failures) == []
    (message,) = _messages(sqs, successes)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "Success" and record["responsePayload"] == {"ok": True}
    assert "functionError" not in record["responseContext"]
