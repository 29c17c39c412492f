"""Sealed audit trail on the whole local cloud: events audited by the real functions, `foureyes ops audit-seal`,
tampering made directly in the table through boto3, `foureyes ops audit-verify` as a compliance officer runs it;
the seal key only the seal function may use, the digests no one can delete."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from foureyes_local.client import LocalClient, wait_for
from foureyes_local.iam import function_credentials

ROOT = Path(__file__).resolve().parents[2]


def _ops(cloud: object, *args: str) -> subprocess.CompletedProcess[str]:
    endpoints = Path(cloud.state_dir) / "endpoints.json"  # type: ignore[attr-defined]
    return subprocess.run([sys.executable, "-m", "foureyes_cli.main", "ops", "--local", str(endpoints), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def _rows(client: LocalClient) -> list[dict[str, Any]]:
    ddb = client.boto("dynamodb")
    pages = ddb.get_paginator("scan").paginate(TableName=client.outputs["AuditTableName"], ConsistentRead=True)
    return [item for page in pages for item in page["Items"]]


def _settled(client: LocalClient) -> list[dict[str, Any]]:
    """The audit rows once nothing has been appended for a second (streams and executions run on their own)."""
    last: list[int] = [-1]

    def still() -> list[dict[str, Any]] | None:
        rows = _rows(client)
        if len(rows) == last[0]:
            return rows
        last[0] = len(rows)
        time.sleep(1.0)
        return None

    return wait_for("the audit trail to stop growing", still, timeout=60)


def _audit_some_events(client: LocalClient, candidates: int, deliveries: int = 4) -> None:
    """Webhook deliveries, each audited by the webhook function in its candidate's chain."""
    for _ in range(candidates):
        record = f"seal{uuid.uuid4().hex[:8]}"
        for n in range(deliveries):
            answer = client.post_webhook("carerix", f"{record}-{n}", {"id": record, "first_name": "Iris",
                                                                      "last_name": f"Kok{n}"})
            assert answer.status_code in (200, 202), answer.text


def _as(cloud: object, client: LocalClient, role_logical: str, service: str) -> Any:
    role = cloud.stack.roles[role_logical]  # type: ignore[attr-defined]
    described = cloud.describe()  # type: ignore[attr-defined]
    credentials = function_credentials(described["aws"], role.arn, f"test-{role_logical}", described["region"])
    return boto3.client(service, endpoint_url=described["aws"], region_name=described["region"],  # type: ignore[call-overload]
                        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=credentials["AWS_SESSION_TOKEN"])


def test_deleting_sealed_rows_is_reported_and_an_unsealed_tail_is_not(cloud: object, client: LocalClient) -> None:
    _audit_some_events(client, 3)
    _settled(client)
    sealed = _ops(cloud, "audit-seal")
    assert sealed.returncode == 0 and "sealed digest" in sealed.stdout, sealed.stdout + sealed.stderr
    clean = _ops(cloud, "audit-verify")
    assert clean.returncode == 0 and "audit trail intact" in clean.stdout, clean.stdout + clean.stderr

    _audit_some_events(client, 1, deliveries=2)  # after the seal: an intact trail with an unsealed tail
    rows = _settled(client)
    tail = _ops(cloud, "audit-verify")
    assert tail.returncode == 0, tail.stdout + tail.stderr
    assert "unsealed tail (not vouched for until the next seal)" in tail.stdout and "intact" in tail.stdout

    # The newest three rows of the longest chain, sealed or not, deleted directly in the table.
    chains: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        chains.setdefault(row["chain"]["S"], []).append(row)
    chain, chosen = max(chains.items(), key=lambda item: len(item[1]))
    chosen.sort(key=lambda row: int(row["seq"]["N"]))
    newest = chosen[-3:]
    ddb = client.boto("dynamodb")
    table = client.outputs["AuditTableName"]
    sealed_again = _ops(cloud, "audit-seal")  # the chosen rows are all sealed now
    assert sealed_again.returncode == 0, sealed_again.stdout
    for row in newest:
        ddb.delete_item(TableName=table, Key={"chain": row["chain"], "seq": row["seq"]})
    try:
        broken = _ops(cloud, "audit-verify")
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert f"chain {chain}: truncated" in broken.stdout and "sealed row(s) gone" in broken.stdout, broken.stdout
        assert "AUDIT TRAIL BROKEN" in broken.stdout
        refused = _ops(cloud, "audit-seal")  # the seal does not seal over the truncation
        assert refused.returncode == 1 and f"HELD chain {chain}" in refused.stdout, refused.stdout
    finally:
        for row in newest:
            ddb.put_item(TableName=table, Item=row)
    restored = _ops(cloud, "audit-verify")
    assert restored.returncode == 0, restored.stdout


def test_only_the_seal_function_may_sign_and_write_digests(cloud: object, client: LocalClient) -> None:
    key = client.outputs["AuditSealKeyArn"]
    message = b"foureyes-audit-digest:v1:" + b"0" * 64
    for writer in ("WebhookFunctionRole", "ReviewFunctionRole"):
        with pytest.raises(ClientError) as denied:
            _as(cloud, client, writer, "kms").sign(KeyId=key, Message=message, MessageType="RAW",
                                                   SigningAlgorithm="ECDSA_SHA_256")
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "kms:Sign" in denied.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as refused:
            _as(cloud, client, writer, "s3").put_object(Bucket=client.outputs["AuditDigestBucketName"],
                                                        Key="digests/999999999999.json", Body=b"{}")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    signed = _as(cloud, client, "AuditSealFunctionRole", "kms").sign(
        KeyId=key, Message=message, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
    assert signed["Signature"]


def test_a_sealed_digest_cannot_be_deleted_or_overwritten(cloud: object, client: LocalClient) -> None:
    assert _ops(cloud, "audit-seal").returncode == 0
    s3 = client.boto("s3")  # the account's administrator
    bucket = client.outputs["AuditDigestBucketName"]
    versions = s3.list_object_versions(Bucket=bucket, Prefix="digests/")["Versions"]
    newest = max(versions, key=lambda v: v["Key"])
    head = s3.head_object(Bucket=bucket, Key=newest["Key"], VersionId=newest["VersionId"])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    for bypass in (False, True):
        with pytest.raises(ClientError) as denied:
            s3.delete_object(Bucket=bucket, Key=newest["Key"], VersionId=newest["VersionId"],
                             BypassGovernanceRetention=bypass)
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as shortened:
        s3.put_object_retention(Bucket=bucket, Key=newest["Key"], VersionId=newest["VersionId"],
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": head["ObjectLockRetainUntilDate"]},
                                BypassGovernanceRetention=True)
    assert shortened.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as taken:
        s3.put_object(Bucket=bucket, Key=newest["Key"], Body=b"{}", IfNoneMatch="*")
    assert taken.value.response["Error"]["Code"] == "PreconditionFailed"
    after = s3.list_object_versions(Bucket=bucket, Prefix=newest["Key"])
    assert [v["VersionId"] for v in after["Versions"]] == [newest["VersionId"]]
    assert _ops(cloud, "audit-verify").returncode == 0
