"""A small client for a running local cloud, shared by the tests and `make demo`.

It acts as the outside world does: an ATS posting signed webhooks, a recruiter reading e-mail and
clicking links, an operator reading tables with boto3. Every wait has a deadline and says what it
was waiting for when it gives up.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import requests
from boto3.dynamodb.types import TypeDeserializer

from foureyes.ingest.webhooks import sign, signature_header
from foureyes.privacy.keys import CONTEXT_KEY
from foureyes.privacy.records import CANDIDATE_FIELD
from foureyes.privacy.sealing import unseal

T = TypeVar("T")
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


_DESERIALIZE = TypeDeserializer().deserialize


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item (attribute-value JSON) as plain Python values."""
    return {key: _DESERIALIZE(value) for key, value in item.items()}


class WaitTimeout(AssertionError):
    pass


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.2) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise WaitTimeout(f"gave up after {timeout:.0f} s waiting for {what} (last value: {last!r})")


@dataclass
class LocalClient:
    api: str
    aws: str
    outputs: dict[str, str]
    region: str = "eu-west-1"

    def boto(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=self.aws, region_name=self.region,
            aws_access_key_id="local", aws_secret_access_key="local")

    # ------------------------------------------------------------------ an ATS
    def webhook_secret(self, system: str) -> bytes:
        arn = self.outputs[f"{system.capitalize()}WebhookSecretArn"]
        return str(self.boto("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]).encode()

    def post_webhook(self, system: str, delivery_id: str, candidate: dict[str, Any],
                     event: str = "candidate.updated", *, timestamp: int | None = None,
                     secret: bytes | None = None) -> requests.Response:
        body = json.dumps({"delivery_id": delivery_id, "event": event, "candidate": candidate}).encode()
        signature = sign(secret or self.webhook_secret(system), body, timestamp or int(time.time()))
        return requests.post(f"{self.api}/webhooks/{system}", data=body, timeout=30,
                             headers={"Content-Type": "application/json", signature_header(system): signature})

    # ------------------------------------------------------------------ a recruiter's mailbox and browser
    def outbox(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = requests.get(f"{self.api}/_local/outbox", timeout=10).json()["messages"]
        return messages

    def mail_for(self, predicate: Callable[[dict[str, Any]], bool], what: str, timeout: float = 30) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next((m for m in reversed(self.outbox()) if predicate(m)), None)

        return wait_for(what, find, timeout)

    def review_link(self, proposal_id: str, stage_word: str, timeout: float = 30) -> tuple[str, str]:
        """(link, recipient) of the newest e-mail about `proposal_id` whose subject has `stage_word`."""
        message = self.mail_for(lambda m: proposal_id in m["text"] and stage_word in m["subject"],
                                f"an e-mail asking for {stage_word} of proposal {proposal_id}", timeout)
        link = next(link for link in message["links"] if "/review/" in link)
        return link, message["to"][0]

    def decide(self, link: str, decision: str, reason: str = "same_person") -> requests.Response:
        page = requests.get(link, timeout=30)
        found = NONCE.search(page.text)
        if found is None:
            raise AssertionError(f"the review page has no decision form (HTTP {page.status_code})")
        return requests.post(link, data={"nonce": found.group(1), "decision": decision, "reason": reason},
                             timeout=30)

    # ------------------------------------------------------------------ an operator
    def proposals(self) -> list[dict[str, Any]]:
        items = self.boto("dynamodb").scan(TableName=self.outputs["ProposalsTableName"], ConsistentRead=True)["Items"]
        return [plain(item) for item in items]

    def bookings(self) -> list[dict[str, Any]]:
        items = self.boto("dynamodb").scan(TableName=self.outputs["BookingsTableName"], ConsistentRead=True)["Items"]
        return [plain(item) for item in items]

    def count_candidates(self, system: str, source: str | None = None) -> int:
        paginator = self.boto("dynamodb").get_paginator("scan")
        count = 0
        for page in paginator.paginate(TableName=self.outputs["CandidatesTableName"], ConsistentRead=True):
            count += sum(1 for item in page["Items"] if item["system"]["S"] == system
                         and (source is None or item.get("source", {}).get("S") == source))
        return count

    def candidate(self, ref: str) -> dict[str, Any] | None:
        """A stored candidate item with its sealed personal fields opened, as the functions that show it see it
        (the data key unwrapped by KMS, as the operator); None when the table holds no such record."""
        item = self.boto("dynamodb").get_item(TableName=self.outputs["CandidatesTableName"], Key={"ref": {"S": ref}},
                                              ConsistentRead=True).get("Item")
        if item is None:
            return None
        record = plain(item)
        if record.get("sealed"):
            key_item = plain(self.boto("dynamodb").get_item(TableName=self.outputs["DataKeysTableName"],
                                                            Key={"ref": {"S": ref}}, ConsistentRead=True)["Item"])
            key = self.boto("kms").decrypt(CiphertextBlob=base64.b64decode(key_item["wrapped"]),
                                           EncryptionContext={CONTEXT_KEY: ref})["Plaintext"]
            record.update(json.loads(unseal(bytes(key), ref, CANDIDATE_FIELD, record.pop("sealed"))))
        return record

    def proposal(self, proposal_id: str) -> dict[str, Any]:
        item = self.boto("dynamodb").get_item(TableName=self.outputs["ProposalsTableName"],
                                              Key={"proposal_id": {"S": proposal_id}}, ConsistentRead=True)["Item"]
        return plain(item)

    def proposal_for(self, ref: str, timeout: float = 30) -> dict[str, Any]:
        return wait_for(f"a proposal involving {ref}",
                        lambda: next((p for p in self.proposals() if ref in p.get("refs", [])), None), timeout)

    def execution(self, proposal_id: str) -> dict[str, Any]:
        arn = self.outputs["ProposalReviewStateMachineArn"].replace(":stateMachine:", ":execution:")
        description: dict[str, Any] = self.boto("stepfunctions").describe_execution(executionArn=f"{arn}:{proposal_id}")
        return description

    def dispatch_record(self, proposal_id: str) -> dict[str, Any] | None:
        item = self.boto("dynamodb").get_item(TableName=self.outputs["DispatchesTableName"],
                                              Key={"proposal_id": {"S": proposal_id}}, ConsistentRead=True).get("Item")
        return plain(item) if item else None
