"""The local cloud started on a project of its own (a small template): it refuses a dependency loop as CloudFormation
does and leaves nothing running, and events a function gives up on reach its failure destination, as in Lambda.

Clouds that get as far as moto run in a subprocess: moto's state and the local cloud's routing of Lambda calls are
per process, and the session's cloud must keep its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from foureyes_local.cfn import TemplateCycleError
from foureyes_local.client import wait_for

ROOT = Path(__file__).resolve().parents[2]

# `make local` (cloud.run) on another project root: the same start-up, error line and exit code.
SERVE = """
import argparse, functools, sys
from pathlib import Path
from foureyes_local import cloud
from foureyes_local.options import add_serve_arguments
cloud.LocalCloud = functools.partial(cloud.LocalCloud, Path(sys.argv[1]))
parser = argparse.ArgumentParser()
add_serve_arguments(parser)
raise SystemExit(cloud.run(parser.parse_args(sys.argv[2:])))
"""

LOOP = """
    Transform: AWS::Serverless-2016-10-31
    Resources:
      FoureyesApi:
        Type: AWS::Serverless::Api
        Properties: { StageName: dev }
      BookingFunction:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: functions/x/
          Handler: app.handler
          Runtime: python3.11
          Environment:
            Variables:
              PUBLIC_BASE_URL: !Sub "https://${FoureyesApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dev"
          Events:
            BookPage:
              Type: Api
              Properties: { RestApiId: !Ref FoureyesApi, Path: "/book/{token}", Method: GET }
"""

FAILING = """
    Transform: AWS::Serverless-2016-10-31
    Resources:
      FailuresQueue:
        Type: AWS::SQS::Queue
      ItemsTable:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{ AttributeName: k, AttributeType: S }]
          KeySchema: [{ AttributeName: k, KeyType: HASH }]
          StreamSpecification: { StreamViewType: NEW_IMAGE }
      NewsTopic:
        Type: AWS::SNS::Topic
      FailingFunction:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: functions/x/
          Handler: app.handler
          Runtime: python3.11
          Timeout: 10
          EventInvokeConfig:
            MaximumRetryAttempts: 1
            DestinationConfig: { OnFailure: { Type: SQS, Destination: !GetAtt FailuresQueue.Arn } }
          Events:
            Items:
              Type: DynamoDB
              Properties:
                Stream: !GetAtt ItemsTable.StreamArn
                StartingPosition: TRIM_HORIZON
                BatchSize: 5
                MaximumRetryAttempts: 1
                DestinationConfig: { OnFailure: { Type: SQS, Destination: !GetAtt FailuresQueue.Arn } }
            News:
              Type: SNS
              Properties: { Topic: !Ref NewsTopic }
    Outputs:
      FailuresQueueUrl: { Value: !Ref FailuresQueue }
      ItemsTableName: { Value: !Ref ItemsTable }
      NewsTopicArn: { Value: !Ref NewsTopic }
"""


def _project(root: Path, template: str) -> Path:
    """A project root: the template, one function that always fails, and the runtime's boto3 already built."""
    (root / "functions" / "x").mkdir(parents=True)
    (root / "functions" / "x" / "app.py").write_text(
        "def handler(event, context):\n    raise RuntimeError('this function always fails')\n")
    (root / "template.yaml").write_text(textwrap.dedent(template))
    (root / ".build").mkdir()
    (root / ".build" / "runtime").symlink_to(ROOT / ".build" / "runtime")
    return root


def _serve(root: Path, state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SERVE, str(root), "--aws-port", "0", "--api-port", "0", "--no-schedules",
         "--state-dir", str(state)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ})


def _started_threads(before: set[threading.Thread]) -> set[threading.Thread]:
    """Threads started since `before`, less other servers' per-request threads (the session's cloud may be
    answering a request meanwhile); a server of this cloud would show as its listening port and serve thread."""
    return {thread for thread in set(threading.enumerate()) - before
            if "process_request_thread" not in thread.name}


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_make_local_refuses_a_dependency_loop_naming_it(tmp_path: Path) -> None:
    process = _serve(_project(tmp_path / "project", LOOP), tmp_path / "state")
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    assert "local cloud failed to start: Circular dependency between resources: [BookingFunction, FoureyesApi]" \
        in output


def test_a_loop_stops_start_up_before_anything_runs(tmp_path: Path) -> None:
    from foureyes_local.cloud import LocalCloud

    threads = set(threading.enumerate())
    cloud = LocalCloud(root=_project(tmp_path / "project", LOOP), state_dir=tmp_path / "state", schedules=False)
    with pytest.raises(TemplateCycleError) as refused:
        cloud.start()
    assert refused.value.resources == ["BookingFunction", "FoureyesApi"]
    assert not _started_threads(threads) and not _listening(cloud.aws_port)


def test_a_failure_after_moto_started_stops_moto_and_its_threads(tmp_path: Path) -> None:
    """A resource the local cloud cannot create, made after moto started: moto is stopped again, nothing is left,
    and moto's routing of Lambda and SNS in this process is given back (to the session's cloud, if it runs)."""
    from moto.awslambda.models import LambdaBackend
    from moto.sns.models import Subscription

    from foureyes_local.cloud import LocalCloud

    routing = (LambdaBackend.invoke, Subscription.publish, os.environ.get("MOTO_PORT"))
    project = _project(tmp_path / "project", """
        Resources:
          PatternRuleOfThisTest:
            Type: AWS::Events::Rule
            Properties: { EventPattern: { source: [foureyes.test] } }
    """)
    threads = set(threading.enumerate())
    cloud = LocalCloud(root=project, state_dir=tmp_path / "state", schedules=False)
    with pytest.raises(RuntimeError, match="PatternRuleOfThisTest .* scheduled rules only"):
        cloud.start()
    assert not _listening(cloud.aws_port)
    assert (LambdaBackend.invoke, Subscription.publish, os.environ.get("MOTO_PORT")) == routing
    wait_for("the start-up's threads to end", lambda: not _started_threads(threads), timeout=10)


@pytest.fixture
def failing_cloud(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A local cloud of FAILING in a subprocess; yields its endpoints.json."""
    state = tmp_path / "state"
    process = _serve(_project(tmp_path / "project", FAILING), state)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("API: "):
            break
    try:
        assert (state / "endpoints.json").exists(), "".join(lines)
        yield json.loads((state / "endpoints.json").read_text())
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0


def _records(sqs: Any, url: str, wanted: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    def probe() -> bool:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []):
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(received) >= wanted

    wait_for(f"{wanted} on-failure records", probe, timeout=90)
    return received


@pytest.mark.timeout(240)
def test_events_a_function_gives_up_on_reach_its_failure_destination(failing_cloud: dict[str, Any]) -> None:
    """An asynchronous invoke and an SNS delivery are retried once (MaximumRetryAttempts: 1), then Lambda's record
    with the event goes to the queue; a stream record that still fails after its retry is reported there too."""
    aws, outputs = failing_cloud["aws"], failing_cloud["outputs"]
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="eu-west-1")
    function = failing_cloud["functions"]["FailingFunction"]
    accepted = session.client("lambda", endpoint_url=aws).invoke(
        FunctionName=function, InvocationType="Event", Payload=json.dumps({"order": 42}).encode())
    assert accepted["StatusCode"] == 202
    session.client("sns", endpoint_url=aws).publish(TopicArn=outputs["NewsTopicArn"], Message="extra, extra")
    session.client("dynamodb", endpoint_url=aws).put_item(TableName=outputs["ItemsTableName"],
                                                          Item={"k": {"S": "poison"}})

    records = _records(session.client("sqs", endpoint_url=aws), outputs["FailuresQueueUrl"], 3)

    invoked = next(r for r in records if r.get("requestPayload") == {"order": 42})
    assert invoked["version"] == "1.0" and invoked["timestamp"].endswith("Z")
    assert invoked["requestContext"]["condition"] == "RetriesExhausted"
    assert invoked["requestContext"]["approximateInvokeCount"] == 2
    assert invoked["requestContext"]["functionArn"].split(":")[6] == function
    assert invoked["responseContext"]["functionError"] == "Unhandled"
    assert "always fails" in invoked["responsePayload"]["errorMessage"]
    delivered = next(r for r in records if "Records" in (r.get("requestPayload") or {}))
    assert delivered["requestPayload"]["Records"][0]["Sns"]["Message"] == "extra, extra"
    assert delivered["requestContext"]["approximateInvokeCount"] == 2
    streamed = next(r for r in records if "DDBStreamBatchInfo" in r)
    assert streamed["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert streamed["requestContext"]["approximateInvokeCount"] == 2
    batch = streamed["DDBStreamBatchInfo"]
    assert batch["batchSize"] == 1 and batch["startSequenceNumber"] == batch["endSequenceNumber"]
    assert batch["shardId"] and batch["streamArn"].startswith("arn:aws:dynamodb:") and "/stream/" in batch["streamArn"]
    assert batch["approximateArrivalOfFirstRecord"].endswith("Z")
