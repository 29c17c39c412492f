"""Retention and the right to contest, for real on the local cloud: every candidate e-mail carries a signed link
to contest how their data is handled; the contest goes straight to a team lead and holds the merge proposal about
the candidate (no approval, no dispatch) until the team lead upholds it (withdrawn, never dispatched) or dismisses
it (the review goes on). Decided review tasks and cancelled bookings get their expiry, and the local cloud's TTL
reaper deletes them once it has passed (tables without TTL are never reaped)."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import requests

from foureyes import links
from foureyes_local.client import NONCE, LocalClient, plain, wait_for
from tests.integration.test_scheduling_local import _book

DAY = 86400
LEADS = {"tess"}


def _merge_and_invitation(client: LocalClient, tag: str) -> tuple[str, str, str]:
    """Two records of one person (a merge proposal), then an interview stage for the first: (proposal id, its
    review link, the contest link from the candidate's invitation)."""
    # each test's person is born on another day: with the calibrated scorer, two tests' people whose names are a
    # letter apart and who share a birth date would be a pair for review
    born = f"19{60 + sum(map(ord, tag)) % 40}-05-06"
    base = {"first_name": "Noor", "last_name": f"Hendriks-{tag}", "date_of_birth": born, "role_id": "R-1001"}
    address = f"noor.hendriks.{tag}@gmail.com"
    for n, (suffix, email) in enumerate((("a", address), ("b", f"Noor.Hendriks{tag}+cv@gmail.com")), 1):
        reply = client.post_webhook("carerix", f"contest-{tag}-{n}",
                                    {**base, "id": f"{tag}{suffix}", "emails": [email]})
        assert reply.status_code == 202, reply.text
    proposal = client.proposal_for(f"carerix:{tag}a", timeout=60)
    pid = str(proposal["proposal_id"])
    assert proposal["action"] == "merge_candidates"
    review_link, _ = client.review_link(pid, "review", timeout=60)
    client.post_webhook("carerix", f"contest-{tag}-3", {**base, "id": f"{tag}a", "emails": [address],
                                                        "status": "Interview"}).raise_for_status()
    invite = client.mail_for(lambda m: address in m["to"] and m["subject"] == "Plan your interview",
                             "the invitation", timeout=60)
    contest_link = next(link for link in invite["links"] if "/contest/" in link)
    return pid, review_link, contest_link


def _contest(client: LocalClient, contest_link: str, tag: str) -> dict[str, Any]:
    before = {p["proposal_id"] for p in client.proposals()}
    for _ in range(2):  # a scanner opening the link changes nothing
        page = requests.get(contest_link, timeout=30)
        assert page.status_code == 200 and "These are not my records" in page.text
    assert {p["proposal_id"] for p in client.proposals()} == before
    nonce = NONCE.search(page.text)
    assert nonce is not None
    sent = requests.post(contest_link, timeout=30, data={"nonce": nonce.group(1), "choice": "not_mine",
                                                         "text": f"I never applied ({tag})."})
    assert sent.status_code == 200, sent.text
    assert "What happens next" in sent.text
    return wait_for("the contest proposal", lambda: next(
        (p for p in client.proposals() if p["action"] == "contest" and p["refs"] == [f"carerix:{tag}a"]), None))


def _lead_link(client: LocalClient, contest_id: str) -> str:
    message = client.mail_for(lambda m: contest_id in m["text"] and "contests how their data" in m["subject"],
                              "the team lead's contest e-mail", timeout=60)
    assert message["to"][0] == "tess.lead@agency.example"
    return next(link for link in message["links"] if "/review/" in link)


def _approve_held(client: LocalClient, link: str, pid: str) -> requests.Response:
    """The reviewer's POST of a page opened before the hold (its nonce), as a browser would send it."""
    task = plain(client.boto("dynamodb").get_item(TableName=client.outputs["ReviewTasksTableName"], ConsistentRead=True,
                                                  Key={"proposal_id": {"S": pid}, "stage": {"S": "review"}})["Item"])
    return requests.post(link, data={"nonce": task["nonce"], "decision": "approve", "reason": "same_person"},
                         timeout=30)


def _decide_contest(link: str, decision: str, reason: str) -> requests.Response:
    page = requests.get(link, timeout=30)
    nonce = NONCE.search(page.text)
    assert nonce is not None, page.text
    return requests.post(link, timeout=30, data={"action": "contest", "nonce": nonce.group(1), "decision": decision,
                                                 "reason": reason})


def test_a_contest_from_the_invitation_holds_the_merge_and_upheld_withdraws_it(client: LocalClient) -> None:
    pid, review_link, contest_link = _merge_and_invitation(client, "ctu")
    contest = _contest(client, contest_link, "ctu")
    cid = str(contest["proposal_id"])
    assert contest["status"] == "pending_tiebreak" and contest["system"] == "carerix"
    assert client.proposal(pid)["held_by"] == cid
    lead_link = _lead_link(client, cid)
    assert client.execution(cid)["status"] == "RUNNING"

    held = _approve_held(client, review_link, pid)  # the reviewer of the merge
    assert held.status_code == 409 and "on hold: the candidate contested" in html.unescape(held.text)
    assert "On hold" in requests.get(review_link, timeout=30).text
    assert client.proposal(pid)["status"] == "pending_review"

    # a recruiter holding the contest's link (a tampered task) may not decide it
    tasks, ddb = client.outputs["ReviewTasksTableName"], client.boto("dynamodb")
    ddb.update_item(TableName=tasks, Key={"proposal_id": {"S": cid}, "stage": {"S": "tiebreak"}},
                    UpdateExpression="SET assignee = :a", ExpressionAttributeValues={":a": {"S": "anna"}})
    task = plain(ddb.get_item(TableName=tasks, Key={"proposal_id": {"S": cid}, "stage": {"S": "tiebreak"}})["Item"])
    secret = client.boto("secretsmanager").get_secret_value(
        SecretId=client.outputs["LinkSigningSecretArn"])["SecretString"].encode()
    forged = links.sign({"p": cid, "s": "tiebreak", "a": "anna", "l": task["link_id"]}, secret, 600)
    refused = _decide_contest(f"{client.api}/review/{forged}", "uphold", "not_their_records")
    assert refused.status_code == 403 and "only a team lead" in refused.text
    ddb.update_item(TableName=tasks, Key={"proposal_id": {"S": cid}, "stage": {"S": "tiebreak"}},
                    UpdateExpression="SET assignee = :a", ExpressionAttributeValues={":a": {"S": "tess"}})

    upheld = _decide_contest(lead_link, "uphold", "not_their_records")
    assert upheld.status_code == 200 and "withdrawn" in upheld.text
    merge = client.proposal(pid)
    assert merge["status"] == "withdrawn" and float(merge["expires_at"]) > time.time() + 300 * DAY
    assert client.proposal(cid)["status"] == "upheld" and client.proposal(cid)["tiebreak_by"] in LEADS
    wait_for("the contest's execution to end", lambda: client.execution(cid)["status"] == "SUCCEEDED", timeout=60)
    wait_for("the merge's review to be stopped", lambda: client.execution(pid)["status"] == "ABORTED", timeout=60)
    assert client.dispatch_record(pid) is None  # never dispatched
    assert _approve_held(client, review_link, pid).status_code == 409


def test_dismissed_the_holds_are_lifted_and_the_merge_can_be_approved(client: LocalClient) -> None:
    pid, review_link, contest_link = _merge_and_invitation(client, "ctd")
    cid = str(_contest(client, contest_link, "ctd")["proposal_id"])
    lead_link = _lead_link(client, cid)
    assert _approve_held(client, review_link, pid).status_code == 409
    dismissed = _decide_contest(lead_link, "dismiss", "handled_correctly")
    assert dismissed.status_code == 200 and "no longer on hold" in dismissed.text
    assert "held_by" not in client.proposal(pid)
    assert client.decide(review_link, "approve").status_code == 200
    approve_link, _ = client.review_link(pid, "second approval", timeout=60)
    assert client.decide(approve_link, "approve").status_code == 200
    record = wait_for("the merge's (shadow) dispatch", lambda: client.dispatch_record(pid), timeout=60)
    assert record["status"] == "shadowed"
    # the decided review task is kept the review tasks' retention after its decision
    task = plain(client.boto("dynamodb").get_item(
        TableName=client.outputs["ReviewTasksTableName"], ConsistentRead=True,
        Key={"proposal_id": {"S": pid}, "stage": {"S": "review"}})["Item"])
    assert abs(float(task["expires_at"]) - (time.time() + 30 * DAY)) < 600


def test_a_forged_or_expired_contest_link_gets_a_page_with_a_reason(client: LocalClient) -> None:
    secret = client.boto("secretsmanager").get_secret_value(
        SecretId=client.outputs["LinkSigningSecretArn"])["SecretString"].encode()
    expired = links.sign({"k": "contest", "c": "carerix:x1"}, secret, 1, now_ms=int(time.time() * 1000) - 10_000)
    page = requests.get(f"{client.api}/contest/{expired}", timeout=30)
    assert page.status_code == 410 and "expired" in page.text
    forged = links.sign({"k": "contest", "c": "carerix:x1"}, b"not-our-secret", 600)
    for method in (requests.get, requests.post):
        refused = method(f"{client.api}/contest/{forged}", timeout=30)
        assert refused.status_code == 401 and "not valid" in refused.text
    booking = links.sign({"k": "book", "r": "rq_x"}, secret, 600)
    assert requests.get(f"{client.api}/contest/{booking}", timeout=30).status_code == 401
    genuine = links.sign({"k": "contest", "c": "carerix:x1"}, secret, 600)
    missing = requests.post(f"{client.api}/contest/{genuine}", data={"choice": "other"}, timeout=30)
    assert missing.status_code == 400


def _item(client: LocalClient, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    found = client.boto("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    return plain(found) if found else None


def test_a_decided_review_task_and_a_cancelled_booking_expire_and_are_reaped(cloud: Any, client: LocalClient) -> None:
    ddb = client.boto("dynamodb")
    _, manage = _book(client, "ret-1", "femke.dekker@example.org")
    assert requests.post(manage, data={"action": "cancel", "sure": "yes"}, timeout=30).status_code == 200
    booking = next(b for b in client.bookings() if b["candidate_ref"] == "carerix:ret-1")
    assert booking["status"] == "cancelled"
    assert abs(float(booking["expires_at"]) - (time.time() + 180 * DAY)) < 600  # the retention after the cancellation
    requests_table = client.outputs["InterviewRequestsTableName"]
    request_key = {"request_id": {"S": booking["request_id"]}}
    request = _item(client, requests_table, request_key)
    assert request is not None and abs(float(request["expires_at"]) - float(booking["expires_at"])) < 600

    # Past its expiry, the booking is gone for its readers at once, whether or not TTL deleted it yet
    past = {":past": {"N": str(int(time.time()) - 60)}}
    bookings_key = {"booking_id": {"S": booking["booking_id"]}}
    ddb.update_item(TableName=client.outputs["BookingsTableName"], Key=bookings_key,
                    UpdateExpression="SET expires_at = :past", ExpressionAttributeValues=past)
    ddb.update_item(TableName=requests_table, Key=request_key, UpdateExpression="SET expires_at = :past",
                    ExpressionAttributeValues=past)
    assert requests.get(manage, timeout=30).status_code == 404
    # a table without TTL is never reaped, whatever its items say
    audit = client.outputs["AuditTableName"]
    probe = {"chain": {"S": "ttl-probe"}, "seq": {"N": "1"}}
    ddb.put_item(TableName=audit, Item={**probe, "expires_at": {"N": "1"}})
    try:
        cloud.reap_expired()  # now (the background reaper may have been first: either way the items are gone)
        assert _item(client, client.outputs["BookingsTableName"], bookings_key) is None
        assert _item(client, requests_table, request_key) is None
        assert _item(client, audit, probe) is not None
    finally:  # the probe is no audit row: the session's other tests read and verify the trail
        ddb.delete_item(TableName=audit, Key=probe)

    # a decided review task: given its expiry at the decision, reaped by the background reaper once it passed
    tasks = client.outputs["ReviewTasksTableName"]
    pid, review_link, _contest_link = _merge_and_invitation(client, "rtx")
    assert client.decide(review_link, "approve").status_code == 200  # through the review page, as a reviewer does
    key = {"proposal_id": {"S": pid}, "stage": {"S": "review"}}
    decided = _item(client, tasks, key)
    assert decided is not None and decided["status"] == "decided"
    assert float(decided["expires_at"]) > time.time() + 20 * DAY
    ddb.update_item(TableName=tasks, Key=key, UpdateExpression="SET expires_at = :past",
                    ExpressionAttributeValues=past)
    wait_for("the reaper to delete the expired review task", lambda: _item(client, tasks, key) is None, timeout=45)
    assert re.search(r"ttl_reaped", str(cloud.status()))
