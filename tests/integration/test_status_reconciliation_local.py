"""Status reconciliation and flags on the local cloud: two records of one person arrive by webhook, the matcher
proposes an `update_status` (or a `create_note` flag), a reviewer and a different approver decide through the
real e-mailed links, and the dispatcher writes to the fake ATS."""

from __future__ import annotations

import html
import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from foureyes_local.client import LocalClient, wait_for

CACHE_SECONDS = 1.5  # the test cloud's ParametersCacheSeconds (1) plus a margin


def _ssm(client: LocalClient, name: str, value: str | None = None) -> str:
    ssm = client.boto("ssm")
    if value is not None:
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])


@pytest.fixture
def carerix_decides_placements(client: LocalClient) -> Iterator[None]:
    """Bullhorn (the template's source of truth for placed) pushes no webhooks: for a webhook-only story an operator
    makes Carerix the source of truth for placed, live dispatch on. Both are put back afterwards."""
    name = client.outputs["StatusConfigParameterName"]
    shadow = client.outputs["ShadowModeParameterName"]
    original = _ssm(client, name)
    _ssm(client, name, json.dumps({**json.loads(original), "source_of_truth": {"placed": "carerix"}}))
    _ssm(client, shadow, "false")
    time.sleep(CACHE_SECONDS)
    try:
        yield
    finally:
        _ssm(client, name, original)
        _ssm(client, shadow, "true")
        time.sleep(CACHE_SECONDS)


def _fake_id(cloud: Any, client: LocalClient, system: str, from_end: int, older_than_days: float) -> str:
    """An id the fake ATS holds (from the end of its list: other tests write to the first ones) whose stored copy,
    if any, is older than the deliveries this test sends: a pull or a write by an earlier test of the session
    leaves a newer version, and an older delivery changes nothing (versions only move forward)."""
    cutoff = _stamp(older_than_days)
    eligible = []
    for record_id in sorted(getattr(cloud.fakes, system).records(), reverse=True):
        stored = client.boto("dynamodb").get_item(TableName=client.outputs["CandidatesTableName"], ConsistentRead=True,
                                                  Key={"ref": {"S": f"{system}:{record_id}"}}).get("Item")
        if stored is None or stored.get("source_version", {}).get("S", "")[:19] < cutoff:
            eligible.append(str(record_id))
        if len(eligible) == from_end:
            return eligible[-1]
    raise AssertionError(f"no {system} record of the fake is free for this test")


def _person(tag: str, dob: str) -> dict[str, Any]:
    mobile = f"06 {random.Random(tag).randint(41000000, 41999999)}"
    return {"first_name": "Fatma", "last_name": f"Yilmaz-{tag}", "emails": [f"fatma.yilmaz.{tag}@ziggo.nl"],
            "phones": [mobile], "date_of_birth": dob}


def _stamp(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S")


def _proposal(client: LocalClient, action: str, ref: str) -> dict[str, Any]:
    return wait_for(f"a {action} proposal about {ref}", lambda: next(
        (p for p in client.proposals() if p["action"] == action and p["refs"][0] == ref), None), timeout=60)


def _matcher_runs(client: LocalClient) -> int:
    status = requests.get(f"{client.api}/_local/status", timeout=10).json()
    return int(status["functions"]["MatchFunction"]["invocations"])


def _four_eyes(client: LocalClient, pid: str, shows: str) -> tuple[str, str]:
    """A reviewer, then a different approver, approve through their e-mailed links; (reviewer, approver)."""
    review_link, reviewer = client.review_link(pid, "review")
    assert shows in html.unescape(requests.get(review_link, timeout=30).text)  # the page shows why
    page = client.decide(review_link, "approve")
    assert page.status_code == 200, page.text
    approve_link, approver = client.review_link(pid, "second approval")
    assert approver != reviewer
    page = client.decide(approve_link, "approve")
    assert page.status_code == 200, page.text
    return reviewer, approver


def test_placed_in_one_system_available_in_another_is_aligned_through_four_eyes(
        cloud: Any, client: LocalClient, carerix_decides_placements: None) -> None:
    tag = uuid.uuid4().hex[:8]
    otys_id, carerix_id = _fake_id(cloud, client, "otys", 1, 3), _fake_id(cloud, client, "carerix", 1, 3)
    person = _person(tag, "1993-02-14")
    placed = client.post_webhook("carerix", f"status-{tag}-1", {
        **person, "id": carerix_id, "status": "Placed", "lastModifiedAt": _stamp(3)})
    available = client.post_webhook("otys", f"status-{tag}-2", {
        **person, "id": otys_id, "status": "Available", "lastModified": _stamp(0.01)})
    assert placed.status_code == available.status_code == 202, (placed.text, available.text)

    proposal = _proposal(client, "update_status", f"otys:{otys_id}")
    pid = str(proposal["proposal_id"])
    assert proposal["status"] == "pending_review" and proposal["system"] == "otys"
    assert proposal["refs"] == [f"otys:{otys_id}", f"carerix:{carerix_id}"]
    assert json.loads(proposal["diff"]) == {"target": f"otys:{otys_id}", "before": {"status": "Available"},
                                            "after": {"status": "Placed"}}
    assert proposal["reasoning"].startswith(f"Placed in Carerix (Carerix record {carerix_id} says 'Placed'")
    assert f"Otys record {otys_id} says 'Available'" in proposal["reasoning"]
    before = cloud.fakes.otys.record(otys_id)

    reviewer, approver = _four_eyes(client, pid, "is the source of truth for placed, so Otys should say 'Placed'")
    record = wait_for("the live dispatch of the status alignment",
                      lambda: (r := client.dispatch_record(pid)) and r.get("status") == "executed" and r)
    assert record["mode"] == "live" and json.loads(record["call"]) == json.loads(proposal["payload"])  # as approved
    assert cloud.fakes.otys.record(otys_id)["status"] == "Placed" != before["status"]
    final = client.proposal(pid)
    assert final["status"] == "executed" and {final["reviewed_by"], final["approved_by"]} == {
        reviewer.split(".")[0], approver.split(".")[0]}

    # The same disagreement delivered again proposes nothing new.
    runs = _matcher_runs(client)
    again = client.post_webhook("otys", f"status-{tag}-3", {
        **person, "id": otys_id, "status": "Available", "lastModified": _stamp(0.005), "employer": "KPN"})
    assert again.status_code == 202
    wait_for("the matcher to run on the re-delivery", lambda: _matcher_runs(client) > runs)
    assert [p["proposal_id"] for p in client.proposals() if p["action"] == "update_status"
            and p["refs"][0] == f"otys:{otys_id}"] == [pid]


def test_a_contradiction_is_flagged_as_a_note_through_four_eyes(
        cloud: Any, client: LocalClient, carerix_decides_placements: None) -> None:
    tag = uuid.uuid4().hex[:8]
    otys_id, carerix_id = _fake_id(cloud, client, "otys", 2, 40), _fake_id(cloud, client, "carerix", 2, 40)
    old = client.post_webhook("carerix", f"flag-{tag}-1", {
        **_person(tag, "1988-11-05"), "id": carerix_id, "status": "Available", "lastModifiedAt": _stamp(40)})
    new = client.post_webhook("otys", f"flag-{tag}-2", {
        **_person(tag, "1988-05-11"), "id": otys_id, "status": "Available", "lastModified": _stamp(0.01)})
    assert old.status_code == new.status_code == 202, (old.text, new.text)

    ref = f"carerix:{carerix_id}"  # the record changed less recently gets the note
    proposal = _proposal(client, "create_note", ref)
    pid = str(proposal["proposal_id"])
    assert proposal["evidence"][0] == "flag:dob_conflict" and proposal["system"] == "carerix"
    text = json.loads(proposal["diff"])["after"]["note"]
    assert f"Otys record {otys_id}" in text and "dates of birth differ (the day and month)" in text
    for personal in ("1988", "11-05", "05-11", "Fatma", "Yilmaz", "ziggo"):
        assert personal not in text and personal not in proposal["reasoning"]
    assert not [p for p in client.proposals() if p["action"] == "update_status" and ref in p["refs"]]

    _four_eyes(client, pid, "their dates of birth differ")
    wait_for("the live dispatch of the note",
             lambda: (r := client.dispatch_record(pid)) and r.get("status") == "executed")
    notes = [n for n in cloud.fakes.carerix.notes().values() if str(n.get("candidateId")) == carerix_id
             or carerix_id in json.dumps(n, default=str)]
    assert any(text in json.dumps(n, default=str) for n in notes), notes
