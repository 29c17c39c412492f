"""The local cloud itself: faithful workers, every invocation path, the outbox, the CLI start line."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from foureyes_local.client import LocalClient, wait_for
from foureyes_local.workers import FunctionPool

ROOT = Path(__file__).resolve().parents[2]


def _pool(cloud: object, logical: str, tmp_path: Path, **changes: object) -> FunctionPool:
    spec = dataclasses.replace(cloud.stack.functions[logical], **changes)  # type: ignore[attr-defined]
    return FunctionPool(spec, tmp_path, lambda spec, line: None)


def test_a_function_missing_an_env_var_fails_as_in_aws(cloud: object, tmp_path: Path) -> None:
    spec = cloud.stack.functions["DispatchOtysFunction"]  # type: ignore[attr-defined]
    environment = {k: v for k, v in spec.environment.items() if k != "ATS_SYSTEM"}
    pool = _pool(cloud, "DispatchOtysFunction", tmp_path, environment=environment)
    try:
        result = pool.invoke({"proposal_id": "p"})
    finally:
        pool.close()
    assert result.error_type == "ConfigurationError"
    assert "ATS_SYSTEM" in json.loads(result.payload)["errorMessage"]


def test_a_function_without_its_layer_cannot_import_the_domain(cloud: object, tmp_path: Path) -> None:
    spec = cloud.stack.functions["DispatchBullhornFunction"]  # type: ignore[attr-defined]
    without_domain = tuple(p for p in spec.python_path if not str(p).endswith("layers/foureyes/python"))
    assert len(without_domain) == len(spec.python_path) - 1
    pool = _pool(cloud, "DispatchBullhornFunction", tmp_path, python_path=without_domain)
    try:
        result = pool.invoke({"proposal_id": "p"})
    finally:
        pool.close()
    assert result.error_type == "Runtime.ImportModuleError"
    assert "foureyes" in json.loads(result.payload)["errorMessage"]


def test_crashes_are_lambda_errors_and_timeouts_are_enforced(cloud: object, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(
        "import os, time\n"
        "def handler(event, context):\n"
        "    if event.get('crash'):\n        os._exit(3)\n"
        "    if event.get('sleep'):\n        time.sleep(event['sleep'])\n"
        "    return {'ok': True, 'remaining_ms': context.get_remaining_time_in_millis()}\n")
    pool = _pool(cloud, "NightlyRetryFunction", tmp_path, code_dir=code, python_path=(code,), timeout=2)
    try:
        crashed = pool.invoke({"crash": True})
        assert crashed.error_type == "Runtime.ExitError"
        assert pool.invoke({}).ok  # a fresh worker replaced the crashed one
        started = time.monotonic()
        slow = pool.invoke({"sleep": 30})
        assert slow.error_type == "Sandbox.Timedout"
        assert time.monotonic() - started < 10
        healthy = pool.invoke({})
        assert healthy.ok and 0 < json.loads(healthy.payload)["remaining_ms"] <= 2000
    finally:
        pool.close()


def test_alarm_state_change_reaches_the_kill_switch_through_sns(client: LocalClient) -> None:
    ssm = client.boto("ssm")
    name = client.outputs["KillSwitchParameterName"]
    cloudwatch = client.boto("cloudwatch")
    # An alarm in OK (actions fire on a change of state only, as in CloudWatch).
    alarm = next(a["AlarmName"] for a in cloudwatch.describe_alarms(StateValue="OK")["MetricAlarms"]
                 if "Carerix" in a["AlarmName"])
    try:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test: error rate 5%")
        wait_for("the kill switch to pause dispatch",
                 lambda: ssm.get_parameter(Name=name)["Parameter"]["Value"] == "true")
    finally:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test over")
        ssm.put_parameter(Name=name, Value="false", Type="String", Overwrite=True)


def test_schedules_fire_on_demand(client: LocalClient) -> None:
    before = requests.get(f"{client.api}/_local/status", timeout=10).json()["functions"]["NightlyRetryFunction"]
    fired = requests.post(f"{client.api}/_local/schedules/NightlyRetryFunction", timeout=60)
    assert fired.status_code == 202 and fired.json()["fired"] == 1
    after = requests.get(f"{client.api}/_local/status", timeout=10).json()["functions"]["NightlyRetryFunction"]
    assert after["invocations"] == before["invocations"] + 1
    assert after["errors"] == before["errors"]
    assert requests.post(f"{client.api}/_local/schedules/WebhookFunction", timeout=10).status_code == 404


def test_stream_batches_report_partial_failures(client: LocalClient) -> None:
    """A poison record fails alone; the good records of the same batch still produce their proposal."""
    ddb = client.boto("dynamodb")
    table = client.outputs["CandidatesTableName"]
    ddb.put_item(TableName=table, Item={"ref": {"S": "otys:poison"}, "system": {"S": "otys"},
                                        "record_id": {"S": "poison"}, "dob": {"S": "not-a-date"},
                                        "updated_at": {"S": "2026-01-01"}})
    for suffix in ("1", "2"):
        response = client.post_webhook("otys", f"delivery-stream-{suffix}", {
            "id": f"stream{suffix}", "first_name": "Daan", "last_name": "Visser", "emails": ["daan.visser@example.nl"],
            "phones": ["+31 6 1111 2222"]})
        assert response.status_code == 202
    client.proposal_for("otys:stream1")
    status = wait_for("the poison record to be retried and dropped", lambda: (
        requests.get(f"{client.api}/_local/status", timeout=10).json()["streams"]["MatchFunction"]["dropped"] >= 1),
        timeout=60)
    assert status


def test_unknown_routes_get_api_gateways_answer(client: LocalClient) -> None:
    assert requests.get(f"{client.api}/nowhere", timeout=10).status_code == 403
    assert requests.delete(f"{client.api}/webhooks/carerix", timeout=10).status_code == 403
    assert requests.get(f"{client.api}/_local/outbox", timeout=10).headers["Content-Type"] == "application/json"
    page = requests.get(f"{client.api}/_local/outbox", headers={"Accept": "text/html"}, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html") and "Outbox" in page.text


def test_the_state_machine_is_the_deployed_file(cloud: object, client: LocalClient) -> None:
    arn = client.outputs["ProposalReviewStateMachineArn"]
    local = json.loads(client.boto("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"])
    source = (ROOT / "statemachines/proposal_review.asl.json").read_text()
    assert local["States"].keys() == json.loads(
        source.replace("${ReviewTimeoutSeconds}", "1"))["States"].keys()
    assert local == json.loads(cloud.stack.state_machine_definition("ProposalReviewStateMachine"))  # type: ignore[attr-defined]


@pytest.mark.timeout(120)
def test_foureyes_local_prints_its_urls_and_stops_cleanly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "foureyes_local", "--aws-port", "0", "--api-port", "0", "--no-schedules",
         "--state-dir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ})
    assert process.stdout is not None
    api = None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("API: "):
            api = line.split()[1]
            break
    try:
        assert api, "".join(lines)
        assert requests.get(f"{api}/_local/outbox", timeout=10).json() == {"messages": []}
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0


def test_the_ops_dashboard_is_provisioned_from_the_template(client: LocalClient) -> None:
    body = json.loads(client.boto("cloudwatch").get_dashboard(DashboardName="foureyes-local")["DashboardBody"])
    alarms = next(w for w in body["widgets"] if w["type"] == "alarm")["properties"]["alarms"]
    assert len(alarms) == 3 and all(a.startswith("arn:aws:cloudwatch:") for a in alarms)
    titles = {w["properties"].get("title") for w in body["widgets"]}
    assert "Dispatches and errors per ATS" in titles
    # Every alarm a widget shows exists: the kill-switch alarms and the failure queues' depth alarms.
    shown = [a for w in body["widgets"] if w["type"] == "alarm" for a in w["properties"]["alarms"]]
    existing = {a["AlarmArn"] for a in client.boto("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert len(shown) == 6 and set(shown) <= existing
    queues = {client.outputs[k].rsplit("/", 1)[-1] for k in
              ("StreamFailuresQueueUrl", "AsyncFailuresQueueUrl", "KillSwitchDeliveryFailuresQueueUrl")}
    depth = next(w for w in body["widgets"] if w["properties"].get("title") == "Messages waiting in the failure queues")
    assert {m[3] for m in depth["properties"]["metrics"]} == queues
    assert any("IntegrationUnconfigured" in json.dumps(w) for w in body["widgets"])


def test_a_function_whose_role_loses_a_permission_fails_as_in_aws(cloud: object, client: LocalClient,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Workers call AWS as their execution role (STS); the local AWS checks its policies on every call. Take the
    webhook function's right to write candidates away (a policy trimmed by mistake) and the delivery fails, as it
    would in AWS; put it back and the same delivery is taken."""
    iam = client.boto("iam")
    role = cloud.stack.functions["WebhookFunction"].role_arn.rsplit("/", 1)[-1]  # type: ignore[attr-defined]
    table = client.outputs["CandidatesTableName"]
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    documents = {n: iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names}
    granting = [n for n, doc in documents.items() if table in json.dumps(doc) and "dynamodb:PutItem" in json.dumps(doc)]
    assert len(granting) == 1, documents.keys()
    candidate = {"id": "iam-1", "first_name": "Ina", "last_name": "Mol", "lastModified": "2026-12-01T10:00:00"}
    iam.delete_role_policy(RoleName=role, PolicyName=granting[0])
    try:
        with caplog.at_level(logging.INFO, logger="foureyes_local.iam"):
            refused = client.post_webhook("otys", "iam-delivery-1", candidate)
        assert refused.status_code >= 500 and "Traceback" not in refused.text
        item = client.boto("dynamodb").get_item(TableName=table, Key={"ref": {"S": "otys:iam-1"}})
        assert "Item" not in item
        denials = [r.getMessage() for r in caplog.records if r.name == "foureyes_local.iam"]
        assert any(role in d and f"table/{table}" in d for d in denials), denials
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=granting[0], PolicyDocument=json.dumps(documents[granting[0]]))
    taken = client.post_webhook("otys", "iam-delivery-2", candidate)
    assert taken.status_code == 202, taken.text
