"""Nothing stranded, on the local cloud: the scheduled sweeper starts a review that has no execution, and a new
run of a review execution hands decided stages their recorded decision (the real state machine and Notify)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from foureyes_local.client import LocalClient, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _stranded_proposal(client: LocalClient) -> str:
    """A proposal saved as `submit` saves it, whose execution never started (the start failed after the save)."""
    pid = f"stranded{uuid.uuid4().hex[:12]}"
    strings = {"pair_key": f"carerix:s1|carerix:{pid}", "status": "pending_review",
               "proposed_at": "2026-12-02T09:00:00+00:00", "proposed_by": "matcher", "system": "carerix",
               "action": "tag_duplicate", "reasoning": "same e-mail", "evidence_hash": pid}
    item = {"proposal_id": {"S": pid}, **{k: {"S": v} for k, v in strings.items()},
            "refs": {"L": [{"S": "carerix:s1"}, {"S": f"carerix:{pid}"}]}, "payload": {"S": "{}"},
            "diff": {"S": "{}"}, "confidence": {"N": "0.9"}, "evidence": {"L": [{"S": "email"}]},
            "fact": {"BOOL": False}, "excluded_approvers": {"L": []}}
    client.boto("dynamodb").put_item(TableName=client.outputs["ProposalsTableName"], Item=item)
    return pid


def test_the_scheduled_sweeper_starts_a_review_whose_execution_never_started(cloud: object,
                                                                             client: LocalClient) -> None:
    pid = _stranded_proposal(client)
    assert cloud.fire_schedule("SweeperFunction") == 1  # type: ignore[attr-defined]
    client.mail_for(lambda m: pid in m["text"] and m["subject"].startswith("Foureyes review"),
                    "the review e-mail of the stranded proposal")
    assert client.execution(pid)["status"] == "RUNNING"
    assert client.proposal(pid)["execution_arn"].endswith(f":{pid}")
    cloud.fire_schedule("SweeperFunction")  # type: ignore[attr-defined]
    assert client.execution(pid)["status"] == "RUNNING"  # started once, by name: never a second execution


def test_a_new_run_of_a_review_replays_the_decided_stage_and_asks_the_same_approver(client: LocalClient) -> None:
    person = {"first_name": "Joke", "last_name": "Smit", "date_of_birth": "1971-04-04", "phones": ["06 1177 2288"]}
    client.post_webhook("carerix", "replay-delivery-1", {**person, "id": "rp1", "emails": ["joke@smit.nl"]})
    client.post_webhook("carerix", "replay-delivery-2", {**person, "id": "rp2", "emails": ["j.smit@kpn.nl"]})
    pid = str(client.proposal_for("carerix:rp1")["proposal_id"])
    link, reviewer = client.review_link(pid, "review")
    assert client.decide(link, "approve").status_code == 200
    _, approver = client.review_link(pid, "approval")

    # The first execution ends (here: stopped) and the next run starts, as the sweeper would start it.
    sfn = client.boto("stepfunctions")
    sfn.stop_execution(executionArn=client.execution(pid)["executionArn"])
    machine = client.outputs["ProposalReviewStateMachineArn"]
    run2 = sfn.start_execution(stateMachineArn=machine, name=f"{pid}-2",
                               input=json.dumps({"proposal_id": pid, "system": "carerix"}))["executionArn"]
    client.boto("dynamodb").update_item(
        TableName=client.outputs["ProposalsTableName"], Key={"proposal_id": {"S": pid}},
        UpdateExpression="SET execution_arn = :arn", ExpressionAttributeValues={":arn": {"S": run2}})

    def approval_mails() -> list[dict[str, object]]:
        return [m for m in client.outbox() if pid in m["text"] and "approval" in m["subject"]]

    wait_for("the second run to reach the approval stage", lambda: len(approval_mails()) == 2 or None, timeout=30)
    assert [m["to"][0] for m in approval_mails()] == [approver, approver]  # same person, same first message
    assert not any(str(m["subject"]).startswith(("Reminder", "Escalated")) for m in approval_mails())
    reviews = [m for m in client.outbox() if pid in m["text"] and "review needed" in m["subject"]]
    assert [m["to"][0] for m in reviews] == [reviewer]  # the decided review was not asked again
    link2, _ = client.review_link(pid, "approval")
    assert client.decide(link2, "approve").status_code == 200
    wait_for("the second run to finish", lambda: sfn.describe_execution(executionArn=run2)["status"] == "SUCCEEDED"
             or None, timeout=30)
    assert client.proposal(pid)["status"] == "shadowed"


def test_ops_sweep_does_what_the_schedule_does(cloud: object, client: LocalClient) -> None:
    pid = _stranded_proposal(client)
    endpoints = Path(cloud.state_dir) / "endpoints.json"  # type: ignore[attr-defined]
    swept = subprocess.run([sys.executable, "-m", "foureyes_cli.main", "ops", "--local", str(endpoints), "sweep"],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert swept.returncode == 0, swept.stderr
    assert "started 1" in swept.stdout and "errors 0" in swept.stdout
    assert client.execution(pid)["status"] == "RUNNING"
    started = [row for row in client.boto("dynamodb").scan(TableName=client.outputs["AuditTableName"])["Items"]
               if row["event"]["S"] == "review.started" and row["subject"]["S"] == pid]
    assert [row["actor"]["S"] for row in started] == ["sweeper"]
