"""`foureyes ops` against the running local cloud, as an operator runs it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from foureyes_local.client import LocalClient

ROOT = Path(__file__).resolve().parents[2]


def _ops(cloud: object, *args: str) -> subprocess.CompletedProcess[str]:
    endpoints = Path(cloud.state_dir) / "endpoints.json"  # type: ignore[attr-defined]
    return subprocess.run([sys.executable, "-m", "foureyes_cli.main", "ops", "--local", str(endpoints), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_status_pause_unpause_queue_and_reviewers(cloud: object, client: LocalClient) -> None:
    operator = f"olivia-{uuid.uuid4().hex[:6]}"
    status = _ops(cloud, "status")
    assert status.returncode == 0, status.stderr
    assert "dispatch: running" in status.stdout and "shadow mode: on" in status.stdout
    assert _ops(cloud, "pause", "--reason", "test: ATS maintenance", "--operator", operator).returncode == 0
    assert "PAUSED" in _ops(cloud, "status").stdout
    refused = _ops(cloud, "unpause", "--reason", " ", "--operator", operator)
    assert refused.returncode == 2 and "--reason is required" in refused.stderr and "Traceback" not in refused.stderr
    assert _ops(cloud, "unpause", "--reason", "test: maintenance over", "--operator", operator).returncode == 0
    assert "dispatch: running" in _ops(cloud, "status").stdout
    events = [row for row in client.boto("dynamodb").scan(TableName=client.outputs["AuditTableName"])["Items"]
              if row["event"]["S"] in ("dispatch.paused", "dispatch.unpaused") and row["actor"]["S"] == operator]
    assert len(events) == 2
    assert _ops(cloud, "queue").returncode == 0
    assert _ops(cloud, "reviewers").returncode == 0


def test_audit_verify_detects_an_edited_row(cloud: object, client: LocalClient) -> None:
    client.post_webhook("carerix", "audit-delivery-1", {"id": "audit1", "first_name": "Iris", "last_name": "Kok"})
    clean = _ops(cloud, "audit-verify")
    assert clean.returncode == 0 and "intact" in clean.stdout, clean.stdout + clean.stderr
    ddb = client.boto("dynamodb")
    table = client.outputs["AuditTableName"]
    row = next(item for item in ddb.scan(TableName=table, ConsistentRead=True)["Items"]
               if item["subject"]["S"] == "carerix:audit1")
    key = {"chain": row["chain"], "seq": row["seq"]}
    original = row["actor"]["S"]
    ddb.update_item(TableName=table, Key=key, UpdateExpression="SET actor = :m",
                    ExpressionAttributeValues={":m": {"S": "mallory"}})
    try:
        broken = _ops(cloud, "audit-verify")
        assert broken.returncode == 1 and f"chain {row['chain']['S']}: row {row['seq']['N']}" in broken.stdout
        assert "edited" in broken.stdout
    finally:
        ddb.update_item(TableName=table, Key=key, UpdateExpression="SET actor = :o",
                        ExpressionAttributeValues={":o": {"S": original}})
    assert _ops(cloud, "audit-verify").returncode == 0


def test_without_a_stack_the_cli_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "foureyes_cli.main", "ops", "--local",
                             str(tmp_path / "none.json"), "status"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "make local" in result.stderr and "Traceback" not in result.stderr
