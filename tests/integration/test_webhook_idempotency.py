"""A webhook delivery whose invocation was killed mid-way blocks its redeliveries only until that invocation's
time is up, not for the idempotency record's week: `ingest` registers the Lambda context, so Powertools writes
the in-progress expiry on the record (its own semantics, on its DynamoDB persistence layer). Against a real
DynamoDB API (a moto server over HTTP) with the tables template.yaml declares."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from foureyes.ingest import candidates, receive
from foureyes.ingest.webhooks import sign, signature_header
from tests.support.handlers import LambdaContext
from tests.support.moto import REGION, template_tables

WEBHOOK_SECRET = b"webhook-secret-for-tests"


class Killed(BaseException):
    """Lambda stopping the invocation (its timeout): not an `Exception`, so nothing on the way cleans up."""


@pytest.fixture
def env(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    tables = template_tables(endpoint, monkeypatch, {"CANDIDATES_TABLE": "CandidatesTable",
                                                     "IDEMPOTENCY_TABLE": "IdempotencyTable",
                                                     "AUDIT_TABLE": "AuditTable"})
    secrets = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=REGION)
    suffix = tables["IDEMPOTENCY_TABLE"]["TableName"].rsplit("-", 1)[1]
    for variable, value in (("CARERIX_WEBHOOK_SECRET_ARN", WEBHOOK_SECRET), ("AUDIT_KEY_SECRET_ARN", b"audit-key")):
        arn = secrets.create_secret(Name=f"{variable}-{suffix}", SecretString=value.decode())["ARN"]
        monkeypatch.setenv(variable, arn)
    monkeypatch.setenv("WEBHOOK_REPLAY_WINDOW_SECONDS", "300")
    return tables


def _delivery(delivery_id: str) -> tuple[dict[str, str], bytes]:
    body = json.dumps({"delivery_id": delivery_id, "event": "candidate.updated", "candidate": {
        "id": "wh-killed-1", "first_name": "Ruben", "last_name": "Dekker", "emails": ["ruben.dekker@example.nl"]}})
    return ({signature_header("carerix"): sign(WEBHOOK_SECRET, body.encode(), int(time.time()))}, body.encode())


def _killed_once(real: Callable[..., bool]) -> Callable[..., bool]:
    calls: list[int] = []

    def save(*args: Any, **kwargs: Any) -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise Killed  # the first delivery's invocation dies here, after its INPROGRESS record was written
        return real(*args, **kwargs)

    return save


def test_a_killed_invocation_blocks_a_redelivery_only_until_its_time_is_up(
        env: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    saves: list[str] = []
    killed_then_real = _killed_once(candidates.save)

    def save(candidate: Any, source: str, *args: Any, **kwargs: Any) -> bool:
        saves.append(candidate.ref)
        return killed_then_real(candidate, source, *args, **kwargs)

    monkeypatch.setattr(candidates, "save", save)
    headers, body = _delivery("wh-killed-d1")
    started = time.time()
    with pytest.raises(Killed):
        receive.ingest("carerix", headers, body, LambdaContext(remaining_ms=2_000))

    # The record the killed invocation left: INPROGRESS, and in progress only until its time was up.
    table = env["IDEMPOTENCY_TABLE"]["TableName"]
    (item,) = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION).scan(TableName=table)["Items"]
    assert item["status"]["S"] == "INPROGRESS"
    until = int(item["in_progress_expiration"]["N"]) / 1000
    assert started + 1.5 < until < time.time() + 2.5

    # The ATS redelivers while that invocation could still be running: refused, nothing stored twice.
    with pytest.raises(IdempotencyAlreadyInProgressError):
        receive.ingest("carerix", headers, body, LambdaContext(remaining_ms=30_000))
    time.sleep(max(0.0, until - time.time()) + 0.3)

    # Its time is up: the next redelivery is stored (rather than refused for the record's whole week).
    assert receive.ingest("carerix", headers, body, LambdaContext(remaining_ms=30_000)) == {
        "stored": "carerix:wh-killed-1", "applied": True}
    # ... and from then on the delivery is answered from its record, never stored again.
    again = receive.ingest("carerix", headers, body, LambdaContext(remaining_ms=30_000))
    assert again["stored"] == "carerix:wh-killed-1"
    assert saves == ["carerix:wh-killed-1", "carerix:wh-killed-1"]
