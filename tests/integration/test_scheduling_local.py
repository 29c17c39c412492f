"""Scheduling on the local cloud: a cancellation in the ATS frees the slot and writes nothing back into the ATS;
a candidate's own cancellation reaches the ATS as a fact through the dispatcher; the booked interview downloads
as an .ics file through the gateway, which declares no binary media types, as the API in AWS does not; with the
Graph and HRIS secrets still the template's placeholders, booking goes on without the calendar and an onboarding
task waits, parked."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from foureyes.scheduling import ics
from foureyes_local.client import LocalClient, plain, wait_for
from tests.support.local_facts import approved_onboarding_fact

ROOT = Path(__file__).resolve().parents[2]
CACHE_SECONDS = 1.5  # the test cloud's ParametersCacheSeconds (1) plus a margin


def _audit_rows(client: LocalClient) -> list[dict[str, Any]]:
    items = client.boto("dynamodb").scan(TableName=client.outputs["AuditTableName"], ConsistentRead=True)["Items"]
    return [plain(item) for item in items]


def _book(client: LocalClient, record_id: str, email: str) -> tuple[str, str]:
    person = {"id": record_id, "first_name": "Lieke", "last_name": "Smit", "emails": [email],
              "role_id": "R-1001", "time_zone": "Europe/Amsterdam"}
    client.post_webhook("carerix", f"sched-{record_id}-1", {**person, "status": "Interview"}).raise_for_status()
    invite = client.mail_for(lambda m: email in m["to"] and m["subject"] == "Plan your interview", "the invitation",
                             timeout=60)
    link = next(u for u in invite["links"] if "/book/" in u)
    slot = re.findall(r'name="slot" id="[^"]+" value="([^"]+)"', requests.get(link, timeout=30).text)[0]
    requests.post(link, data={"action": "hold", "slot": slot}, timeout=30).raise_for_status()
    done = requests.post(link, data={"action": "confirm", "slot": slot}, timeout=30, allow_redirects=False)
    assert done.status_code == 303, done.text
    return link, done.headers["Location"]


def test_a_cancellation_in_the_ats_frees_the_slot_and_writes_nothing_back_into_the_ats(
        cloud: Any, client: LocalClient) -> None:
    """Issue 11, item 2: the ATS cancelled; the booking is cancelled here (calendar, candidate, audit) with the
    ATS as the actor and its `changed_by` as a claim, and no note is proposed back into that ATS."""
    before = {e.get("id") for e in cloud.graph.live_events()}  # other tests' interviews share the calendar
    link, manage = _book(client, "sched-ats-1", "lieke.smit@example.org")
    assert "Your interview is booked" in requests.get(manage, timeout=30).text
    confirmed = [e for e in cloud.graph.live_events() if e["status"] == "confirmed" and e.get("id") not in before]
    assert confirmed
    client.post_webhook("carerix", "sched-sched-ats-1-2", {
        "id": "sched-ats-1", "first_name": "Lieke", "last_name": "Smit", "emails": ["lieke.smit@example.org"],
        "role_id": "R-1001", "status": "Interview cancelled", "changed_by": "anna"}).raise_for_status()
    wait_for("the booking to be cancelled", lambda: next(
        b for b in client.bookings() if b["candidate_ref"] == "carerix:sched-ats-1")["status"] == "cancelled",
        timeout=60)
    # the booking is marked cancelled first and its calendar events are removed right after: wait for both
    wait_for("the interviewers' events to be removed", lambda: not [
        e for e in cloud.graph.live_events() if e.get("id") in {c.get("id") for c in confirmed}], timeout=60)
    client.mail_for(lambda m: "lieke.smit@example.org" in m["to"] and "cancelled" in m["subject"],
                    "the candidate's cancellation", timeout=60)
    booking = next(b for b in client.bookings() if b["candidate_ref"] == "carerix:sched-ats-1")
    assert booking["status"] == "cancelled"
    audited = wait_for("the cancellation in the audit trail (written after any note would be)", lambda: [
        row for row in _audit_rows(client) if row["event"] == "interview.cancelled"
        and row["subject"] == booking["booking_id"]], timeout=60)
    assert [(row["actor"], json.loads(row["details"])["claimed_by"]) for row in audited] == [("ats:carerix", "anna")]
    assert not [p for p in client.proposals() if p.get("fact") and p["refs"][0] == "carerix:sched-ats-1"]  # no note


def test_a_candidates_own_cancellation_is_noted_in_the_ats_through_the_dispatcher(
        cloud: Any, client: LocalClient) -> None:
    _, manage = _book(client, "sched-own-1", "sanne.visser@example.org")
    cancelled = requests.post(manage, data={"action": "cancel", "sure": "yes"}, timeout=30)
    assert cancelled.status_code == 200, cancelled.text
    note = wait_for("the candidate's note as a fact through the dispatcher", lambda: next(
        (p for p in client.proposals() if p.get("fact") and p["refs"][0] == "carerix:sched-own-1"), None), timeout=60)
    assert note["action"] == "create_note" and note["proposed_by"] == "carerix:sched-own-1"
    wait_for("the dispatcher to take the note (shadow mode here)",
             lambda: client.proposal(note["proposal_id"])["status"] in ("shadowed", "executed"), timeout=60)


def test_a_new_interview_stage_change_replaces_the_open_invitation_and_its_link(
        cloud: Any, client: LocalClient) -> None:
    email = "sem.visser@example.org"
    person = {"id": "sched-twice-1", "first_name": "Sem", "last_name": "Visser", "emails": [email],
              "role_id": "R-1001", "time_zone": "Europe/Amsterdam"}
    versions = iter(f"2026-12-0{day}T09:00:00Z" for day in range(1, 4))  # each delivery a newer version
    client.post_webhook("carerix", "sched-twice-1-1", {**person, "status": "Interview",
                                                       "lastModifiedAt": next(versions)}).raise_for_status()
    first = client.mail_for(lambda m: email in m["to"] and m["subject"] == "Plan your interview", "the invitation",
                            timeout=60)
    old_link = next(u for u in first["links"] if "/book/" in u)
    for delivery, status in (("sched-twice-1-2", "Screening"), ("sched-twice-1-3", "Interview")):
        client.post_webhook("carerix", delivery, {**person, "status": status,
                                                  "lastModifiedAt": next(versions)}).raise_for_status()
    second = client.mail_for(lambda m: email in m["to"] and m["subject"] == "Plan your interview"
                             and old_link not in m["links"], "the second invitation", timeout=60)
    new_link = next(u for u in second["links"] if "/book/" in u)
    old_page = requests.get(old_link, timeout=30)
    assert old_page.status_code == 200 and "This link has been replaced" in old_page.text
    slot = re.findall(r'name="slot" id="[^"]+" value="([^"]+)"', requests.get(new_link, timeout=30).text)[0]
    refused = requests.post(old_link, data={"action": "hold", "slot": slot}, timeout=30)
    assert refused.status_code == 409 and "replaced by a newer one" in refused.text
    assert requests.post(new_link, data={"action": "hold", "slot": slot}, timeout=30).status_code == 200


def test_the_booked_interview_downloads_as_an_ics_file_at_the_root_and_under_the_stage(
        cloud: Any, client: LocalClient) -> None:
    """The page's "Add to your calendar" link gives the calendar file itself, not its base64 text: the local
    gateway, like API Gateway without binary media types, passes a base64 reply on as base64."""
    _, manage = _book(client, "sched-ics-1", "noor.jansen@example.org")
    page = requests.get(manage, timeout=30)
    link = html.unescape(re.findall(r'<a href="([^"]+)" download="interview.ics"', page.text)[0])
    assert link.startswith(f"{client.api}/book/") and link.endswith("?format=ics")
    under_stage = link.replace(client.api, f"{client.api}/{cloud.stage}", 1)
    downloads = [requests.get(url, timeout=30) for url in (link, under_stage)]
    for download in downloads:
        assert download.status_code == 200, download.text[:300]
        assert download.headers["Content-Type"].startswith("text/calendar; method=REQUEST")
        assert download.headers["Content-Disposition"] == 'attachment; filename="interview.ics"'
        text = download.content.decode("utf-8")
        assert text.startswith("BEGIN:VCALENDAR\r\n") and text.rstrip().endswith("END:VCALENDAR")
        assert ics.lines_named(text, "METHOD") == ["REQUEST"] and ics.lines_named(text, "SEQUENCE") == ["0"]
        assert ics.lines_named(text, "BEGIN") == ["VCALENDAR", "VEVENT", "VALARM"]
    assert ics.lines_named(downloads[0].text, "UID") == ics.lines_named(downloads[1].text, "UID") != []


def _ops_status(cloud: Any) -> str:
    endpoints = Path(cloud.state_dir) / "endpoints.json"
    done = subprocess.run([sys.executable, "-m", "foureyes_cli.main", "ops", "--local", str(endpoints), "status"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_with_the_placeholder_secrets_booking_goes_on_without_a_calendar_and_onboarding_waits_parked(
        cloud: Any, client: LocalClient, log_dir: Path) -> None:
    """Issue 12: the template's placeholders in the Graph and HRIS secrets crash nothing. The stage change still
    invites (slots from the rules), the candidate holds and books with no calendar call, the HRIS write is parked
    waiting for the HRIS, `ops status` says so; filled in, the nightly retry sends the onboarding task."""
    secrets, ssm = client.boto("secretsmanager"), client.boto("ssm")
    graph, hris_secret = client.outputs["GraphConnectionSecretId"], client.outputs["HrisConnectionSecretId"]
    shadow = client.outputs["ShadowModeParameterName"]
    filled = {arn: secrets.get_secret_value(SecretId=arn)["SecretString"] for arn in (graph, hris_secret)}
    secrets.put_secret_value(SecretId=graph, SecretString='{"tenant_id": ""}')  # as template.yaml creates them
    secrets.put_secret_value(SecretId=hris_secret, SecretString='{"base_url": ""}')
    ssm.put_parameter(Name=shadow, Value="false", Type="String", Overwrite=True)  # live: the HRIS write is real
    time.sleep(CACHE_SECONDS)
    ref = f"otys:hire-{uuid.uuid4().hex[:6]}"
    try:
        calls_before = dict(cloud.graph.counters)
        _, manage = _book(client, "sched-nocal-1", "daan.bakker@example.org")
        assert "Your interview is booked" in requests.get(manage, timeout=30).text
        assert {k: v for k, v in cloud.graph.counters.items() if calls_before.get(k) != v} == {}  # no Graph call
        pid = approved_onboarding_fact(client, ref)
        name = cloud.stack.functions["DispatchHrisFunction"].name
        got = json.loads(client.boto("lambda").invoke(FunctionName=name, Payload=json.dumps(
            {"proposal_id": pid}).encode())["Payload"].read())
        assert got.get("status") == "parked", got
        assert client.proposal(pid)["outcome"] == "parked: waiting for the hris connection to be configured"
        status = _ops_status(cloud)
        assert "graph              NOT CONFIGURED (no value for tenant_id" in status, status
        assert "hris               NOT CONFIGURED (no value for base_url, api_key)" in status, status
        assert re.search(r"onboarding tasks parked for the HRIS: [1-9]", status), status
        logs = "".join(path.read_text(errors="replace") for path in log_dir.glob("*.log"))
        assert '"integration":"graph"' in logs and '"integration":"hris"' in logs  # the metric's EMF lines
        assert "IntegrationUnconfigured" in logs and "integration not configured" in logs
    finally:
        for arn, value in filled.items():
            secrets.put_secret_value(SecretId=arn, SecretString=value)
    time.sleep(CACHE_SECONDS)
    try:
        assert "NOT CONFIGURED" not in _ops_status(cloud).split("integrations:")[1].split("onboarding")[0]
        fired = requests.post(f"{client.api}/_local/schedules/NightlyRetryFunction", timeout=120)
        assert fired.status_code == 202
        wait_for("the parked onboarding task to go out", lambda: client.proposal(pid)["status"] == "executed",
                 timeout=60)
        assert len([t for t in cloud.hris.tasks() if t["employeeRef"] == ref]) == 1
    finally:
        ssm.put_parameter(Name=shadow, Value="true", Type="String", Overwrite=True)
        time.sleep(CACHE_SECONDS)
