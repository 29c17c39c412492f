"""The walking skeleton, for real on the local cloud: webhook -> stream -> matcher -> proposal ->
Step Functions -> e-mailed links -> review page -> two different people -> shadow dispatch."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import requests

from foureyes import links
from foureyes_local.client import LocalClient, wait_for


def _pair(client: LocalClient, tag: str, system: str = "carerix") -> dict[str, object]:
    """Two records of one person (same gmail address, dots/plus variants); returns the proposal."""
    base = {"first_name": "Sanne", "last_name": f"Bakker-{tag}", "date_of_birth": "1991-03-04"}
    first = client.post_webhook(system, f"delivery-{tag}-1", {**base, "id": f"{tag}a",
                                                             "emails": [f"sanne.bakker.{tag}@gmail.com"]})
    second = client.post_webhook(system, f"delivery-{tag}-2", {**base, "id": f"{tag}b",
                                                              "emails": [f"Sanne.Bakker{tag}+jobs@gmail.com"]})
    assert first.status_code == 202, first.text
    assert second.status_code == 202, second.text
    return client.proposal_for(f"{system}:{tag}a")


def test_two_different_people_approve_and_the_dispatcher_records_in_shadow(client: LocalClient) -> None:
    proposal = _pair(client, "walk")
    pid = str(proposal["proposal_id"])
    assert proposal["status"] == "pending_review"

    review_link, reviewer = client.review_link(pid, "review")
    # A scanner (or the recruiter) opening the link decides nothing.
    for _ in range(3):
        page = requests.get(review_link, timeout=30)
        assert page.status_code == 200
        # the page says the change in words and names both records (not the proposal's id)
        assert "Approve" in page.text and "Carerix walka" in page.text and "Carerix walkb" in page.text
    assert client.proposal(pid)["status"] == "pending_review"
    assert client.execution(pid)["status"] == "RUNNING"

    assert client.decide(review_link, "approve").status_code == 200
    approve_link, approver = client.review_link(pid, "second approval")
    assert approver != reviewer
    assert client.decide(approve_link, "approve").status_code == 200

    record = wait_for("the shadow dispatch record", lambda: client.dispatch_record(pid))
    assert record["mode"] == "shadow" and record["status"] == "shadowed"
    assert record["call"] == proposal["payload"]  # exactly the call the reviewers saw
    final = client.proposal(pid)
    assert final["status"] == "shadowed"
    assert final["reviewed_by"] != final["approved_by"]
    wait_for("the execution to succeed", lambda: client.execution(pid)["status"] == "SUCCEEDED")


def test_the_reviewer_cannot_approve_their_own_review(client: LocalClient) -> None:
    proposal = _pair(client, "self")
    pid = str(proposal["proposal_id"])
    review_link, _ = client.review_link(pid, "review")
    assert client.decide(review_link, "approve").status_code == 200
    client.review_link(pid, "second approval")  # the approval stage is open (and assigned to someone else)
    reviewer = str(client.proposal(pid)["reviewed_by"])

    # Suppose assignment went wrong and the approval task names the reviewer: the decision write refuses.
    tasks = client.outputs["ReviewTasksTableName"]
    ddb = client.boto("dynamodb")
    ddb.update_item(TableName=tasks, Key={"proposal_id": {"S": pid}, "stage": {"S": "approve"}},
                    UpdateExpression="SET assignee = :me", ExpressionAttributeValues={":me": {"S": reviewer}})
    task = ddb.get_item(TableName=tasks, Key={"proposal_id": {"S": pid}, "stage": {"S": "approve"}})["Item"]
    secret = client.boto("secretsmanager").get_secret_value(
        SecretId=client.outputs["LinkSigningSecretArn"])["SecretString"].encode()
    forged = links.sign({"p": pid, "s": "approve", "a": reviewer, "l": task["link_id"]["S"]}, secret, 600)
    page = requests.get(f"{client.api}/review/{forged}", timeout=30)
    nonce = page.text.split('name="nonce" value="')[1].split('"')[0]
    refused = requests.post(f"{client.api}/review/{forged}", timeout=30,
                            data={"nonce": nonce, "decision": "approve", "reason": "same_person"})
    assert refused.status_code == 403
    assert "different person" in refused.text
    assert client.proposal(pid)["status"] == "pending_approval"
    assert client.execution(pid)["status"] == "RUNNING"


def test_two_simultaneous_posts_make_exactly_one_decision(client: LocalClient) -> None:
    proposal = _pair(client, "race")
    pid = str(proposal["proposal_id"])
    link, _ = client.review_link(pid, "review")
    nonce = requests.get(link, timeout=30).text.split('name="nonce" value="')[1].split('"')[0]
    results: list[int] = []

    def post(decision: str) -> None:
        reason = "same_person" if decision == "approve" else "different_people"  # a reason that fits
        reply = requests.post(link, data={"nonce": nonce, "decision": decision, "reason": reason}, timeout=30)
        results.append(reply.status_code)

    threads = [threading.Thread(target=post, args=(d,)) for d in ("approve", "reject", "approve", "reject")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count(200) == 1, results
    assert all(code == 409 for code in results if code != 200), results
    again = requests.post(link, data={"nonce": nonce, "decision": "approve", "reason": "same_person"}, timeout=30)
    assert again.status_code == 409 and "already been decided" in again.text


def test_expired_and_tampered_links_are_refused_with_a_clear_page(client: LocalClient) -> None:
    secret = client.boto("secretsmanager").get_secret_value(
        SecretId=client.outputs["LinkSigningSecretArn"])["SecretString"].encode()
    expired = links.sign({"p": "x", "s": "review", "a": "anna", "l": "y"}, secret, 60,
                         now_ms=int(time.time() * 1000) - 3_600_000)
    page = requests.get(f"{client.api}/review/{expired}", timeout=30)
    assert page.status_code == 410 and "expired" in page.text and "Traceback" not in page.text
    genuine = links.sign({"p": "x", "s": "review", "a": "anna", "l": "y"}, secret, 600)
    tampered = genuine[:-3] + ("AAA" if not genuine.endswith("AAA") else "BBB")
    page = requests.get(f"{client.api}/review/{tampered}", timeout=30)
    assert page.status_code == 401 and "signature" in page.text
    assert requests.get(f"{client.api}/review/{uuid.uuid4()}", timeout=30).status_code == 401


def test_no_task_token_in_any_log_line_or_email(client: LocalClient, log_dir: Path) -> None:
    _pair(client, "leak")
    tasks = client.boto("dynamodb").scan(TableName=client.outputs["ReviewTasksTableName"])["Items"]
    tokens = [item["task_token"]["S"] for item in tasks]
    assert tokens
    logs = "".join(path.read_text(errors="replace") for path in log_dir.glob("*.log"))
    mail = str(client.outbox())
    for token in tokens:
        assert token[:40] not in logs
        assert token[:40] not in mail


def test_no_names_emails_or_phones_in_any_log_line(client: LocalClient, log_dir: Path) -> None:
    """Log ids, not people: a record's personal fields never reach a function's log."""
    person = {"first_name": "Zoë", "last_name": "Vermeulen-Piiproef", "date_of_birth": "1987-07-07",
              "phones": ["06 2468 1357"]}
    client.post_webhook("otys", "pii-delivery-1", {**person, "id": "pii1", "emails": ["zoe.piiproef@gmail.com"]})
    client.post_webhook("otys", "pii-delivery-2", {**person, "id": "pii2", "emails": ["zoe.p@piiproef.nl"]})
    proposal = client.proposal_for("otys:pii1")
    client.review_link(str(proposal["proposal_id"]), "review")  # matcher, state machine and notifier all ran
    logs = "".join(path.read_text(errors="replace") for path in log_dir.glob("*.log"))
    assert "otys:pii1" in logs or "pii1" in logs  # ids are logged
    for value in ("Piiproef", "piiproef", "zoe.piiproef", "2468 1357", "624681357", "1987-07-07"):
        assert value not in logs, value
