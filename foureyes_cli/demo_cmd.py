"""`foureyes demo` (`make demo`): the end-to-end story on a fresh local cloud, ending with
`DEMO SUMMARY {json}`. Exits 0 only if every step really happened."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Candidates as the ATSes send them: two people with duplicate records, and two namesakes
# (same common Dutch name and year of birth, nothing else shared) who must not be proposed.
STORY: list[tuple[str, dict[str, Any]]] = [
    ("carerix", {"id": "cx-1001", "first_name": "Jan", "last_name": "de Jong", "date_of_birth": "1988-05-17",
                 "emails": ["jan.dejong88@gmail.com"], "phones": ["06-48213795"]}),
    ("otys", {"id": "ot-2001", "first_name": "Jan", "last_name": "de Jong", "date_of_birth": "1988-05-17",
              "emails": ["j.dejong@werkmail.nl"], "phones": ["+31 6 4821 3795"]}),
    ("carerix", {"id": "cx-1002", "first_name": "Fatima", "last_name": "el Amrani", "date_of_birth": "1993-11-02",
                 "emails": ["Fatima.ElAmrani+vacatures@gmail.com"]}),
    ("carerix", {"id": "cx-1003", "first_name": "Fatima", "last_name": "El Amrani", "date_of_birth": "1993-11-02",
                 "emails": ["fatimaelamrani@googlemail.com"]}),
    ("otys", {"id": "ot-2002", "first_name": "Pieter", "last_name": "Jansen", "date_of_birth": "1979-01-09",
              "emails": ["pieter.jansen@bouwbedrijf.nl"]}),
    ("otys", {"id": "ot-2003", "first_name": "Pieter", "last_name": "Jansen", "date_of_birth": "1985-07-30",
              "emails": ["pjansen@zorggroep.nl"]}),
]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="run the scripted end-to-end story on a fresh local cloud")
    demo.set_defaults(run=run)


def _say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def _pull(client: Any, function: str) -> dict[str, Any]:
    import requests

    reply = requests.post(f"{client.api}/_local/schedules/{function}", timeout=600)
    if reply.status_code != 202:
        raise RuntimeError(f"could not run {function}: HTTP {reply.status_code}")
    return dict(reply.json())


def story(client: Any) -> dict[str, Any]:
    from foureyes_local.client import wait_for

    pulled: dict[str, int] = {}
    for system in ("Bullhorn", "Otys", "Carerix"):
        _pull(client, f"Pull{system}Function")
        pulled[system.lower()] = client.count_candidates(system.lower(), source="pull")
    _say("scheduled pulls from the fake ATSes: " + ", ".join(f"{k} {v}" for k, v in pulled.items()))
    for n, (system, candidate) in enumerate(STORY):
        reply = client.post_webhook(system, f"demo-delivery-{n:04d}", candidate)
        if reply.status_code != 202:
            raise RuntimeError(f"webhook {n} refused: HTTP {reply.status_code} {reply.text}")
    pulled["webhook"] = len(STORY)
    _say(f"{len(STORY)} candidate records received by webhook (Carerix, Otys)")
    story_refs = {f"{system}:{candidate['id']}" for system, candidate in STORY}

    def story_proposals() -> list[dict[str, Any]] | None:
        found = [p for p in client.proposals() if set(p["refs"]) <= story_refs]
        return found if len(found) >= 2 else None

    wait_for("two proposals from the webhook records", story_proposals, timeout=90)
    time.sleep(2)  # let the matcher finish the rest of its batch: a namesake proposal would show up here
    proposals = story_proposals() or []
    all_proposals = client.proposals()
    refs = sorted(tuple(p["refs"]) for p in proposals)
    _say(f"{len(all_proposals)} proposals in all; from the webhook records: "
         + "; ".join(" + ".join(r) for r in refs))
    if any("otys:ot-2002" in r or "otys:ot-2003" in r for pair in refs for r in pair):
        raise RuntimeError("the namesakes Pieter Jansen were proposed as one person")

    by_ref = {p["refs"][0]: p for p in proposals}
    agree = next(p for ref, p in by_ref.items() if ref.startswith("carerix:cx-100"))
    disagree = next(p for p in proposals if p is not agree)
    decisions: dict[str, list[str]] = {}

    # 1. Reviewer approves, a different approver approves -> dispatch (shadow mode).
    pid = agree["proposal_id"]
    link, reviewer = client.review_link(pid, "review")
    client.decide(link, "approve").raise_for_status()
    link, approver = client.review_link(pid, "second approval")
    client.decide(link, "approve").raise_for_status()
    decisions[pid] = [reviewer, approver]
    _say(f"proposal {pid}: approved by {reviewer} and then {approver}")

    # 2. Reviewer and approver disagree -> a team lead breaks the tie.
    pid2 = disagree["proposal_id"]
    link, reviewer = client.review_link(pid2, "review")
    client.decide(link, "approve").raise_for_status()
    link, approver = client.review_link(pid2, "second approval")
    client.decide(link, "reject", "insufficient_evidence").raise_for_status()
    link, lead = client.review_link(pid2, "tie-break")
    client.decide(link, "approve").raise_for_status()
    decisions[pid2] = [reviewer, approver, lead]
    _say(f"proposal {pid2}: {reviewer} approved, {approver} rejected, team lead {lead} approved")

    dispatched = [_wait_dispatched(client, p) for p in (pid, pid2)]
    final = {p: client.proposal(p) for p in (pid, pid2)}
    two_people = all(len({f["reviewed_by"], f["approved_by"], f.get("tiebreak_by") or f["reviewed_by"]}) >= 2
                     for f in final.values())
    if not two_people:
        raise RuntimeError("a proposal was dispatched without two different people deciding")
    _say(f"dispatched in shadow mode (calls recorded, nothing sent): {', '.join(d['system'] for d in dispatched)}")
    summary = {
        "pulled": pulled,
        "proposals": len(all_proposals),
        "approved": sum(1 for f in final.values() if f["status"] in ("approved", "shadowed", "executed")),
        "dispatched": len(dispatched),
        "dispatched_shadow": len(dispatched),
        "shadow_mode": all(d["mode"] == "shadow" for d in dispatched),
        "tie_breaks": sum(1 for f in final.values() if f.get("tiebreak_by")),
        "deciders": decisions,
        "namesakes_proposed": sum(1 for pair in refs if {"otys:ot-2002", "otys:ot-2003"} & set(pair)),
    }
    return summary


def _ops(cloud: Any, *args: str) -> str:
    import subprocess

    endpoints = Path(cloud.state_dir) / "endpoints.json"
    done = subprocess.run([sys.executable, "-m", "foureyes_cli.main", "ops", "--local", str(endpoints), *args],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"foureyes ops {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _ops_refused(cloud: Any, *args: str) -> str:
    """Run an ops command that must be refused; what it said."""
    import subprocess

    endpoints = Path(cloud.state_dir) / "endpoints.json"
    done = subprocess.run([sys.executable, "-m", "foureyes_cli.main", "ops", "--local", str(endpoints), *args],
                          capture_output=True, text=True, timeout=120)
    if done.returncode == 0:
        raise RuntimeError(f"foureyes ops {' '.join(args)} should have been refused")
    return done.stderr.strip()


def _approve_pair(client: Any, system: str, tag: str) -> str:
    """Two records of one person arrive; two different recruiters approve the proposal; its id."""
    from foureyes_local.client import wait_for

    person = {"first_name": "Mila", "last_name": f"Hoekstra{tag}", "date_of_birth": "1994-04-04"}
    for n, email in enumerate((f"mila.hoekstra.{tag}@gmail.com", f"MilaHoekstra{tag}+cv@googlemail.com")):
        reply = client.post_webhook(system, f"demo-{tag}-delivery-{n}", {**person, "id": f"{tag}-{n}",
                                                                        "emails": [email]})
        if reply.status_code != 202:
            raise RuntimeError(f"webhook refused: {reply.text}")
    pid = str(wait_for(f"a proposal for {tag}", lambda: client.proposal_for(f"{system}:{tag}-0"))["proposal_id"])
    for stage in ("review", "second approval"):
        link, _ = client.review_link(pid, stage)
        client.decide(link, "approve").raise_for_status()
    return pid


def dispatch_safety(cloud: Any, client: Any) -> dict[str, Any]:
    """Live dispatch, a rollback by a different approver, and the kill switch tripping and coming back."""
    import json as _json

    from foureyes_local.client import wait_for

    _ops(cloud, "shadow", "off", "--reason", "demo: three weeks of shadow mode at 94% agreement", "--operator", "olga")
    # A duplicate the matcher found among the records pulled from Otys (they exist in the ATS).
    pulled = [p for p in client.proposals() if p["system"] == "otys" and p["status"] == "pending_review"
              and p["action"] in ("merge_candidates", "tag_duplicate")  # not a status alignment or a flag
              and all(ref.startswith("otys:") and ref.split(":", 1)[1] in cloud.fakes.otys.records()
                      for ref in p["refs"])]
    if not pulled:
        raise RuntimeError("no proposal among the records pulled from Otys to dispatch live")
    pid = pulled[0]["proposal_id"]
    for stage in ("review", "second approval"):
        link, _ = client.review_link(pid, stage)
        client.decide(link, "approve").raise_for_status()
    wait_for("the live write", lambda: client.proposal(pid)["status"] == "executed", timeout=60)
    record_id = client.proposal(pid)["refs"][0].split(":", 1)[1]
    written = _json.dumps(cloud.fakes.otys.records()[record_id])
    marker = "foureyes-merged-with" if "foureyes-merged-with" in written else "foureyes-duplicate-of"
    _say(f"live: proposal {pid} ({client.proposal(pid)['action']}) written to Otys record {record_id}")
    original_approvers = {client.proposal(pid)["reviewed_by"], client.proposal(pid)["approved_by"]}
    rollback_id = _ops(cloud, "rollback", pid, "--reason", "demo: recruiter asks to undo", "--operator", "olga")
    rollback_id = rollback_id.split("rollback proposed as ")[1].split(":")[0]
    link, _ = client.review_link(rollback_id, "review")
    client.decide(link, "approve").raise_for_status()
    link, approver = client.review_link(rollback_id, "second approval")
    client.decide(link, "approve").raise_for_status()
    wait_for("the rollback", lambda: client.proposal(pid)["status"] == "rolled_back", timeout=60)
    rollback = client.proposal(rollback_id)
    if rollback["approved_by"] in original_approvers:
        raise RuntimeError("the rollback was approved by an approver of the original action")
    restored = marker not in _json.dumps(cloud.fakes.otys.records()[record_id])
    _say(f"rollback {rollback_id}: approved by {approver} (not one of {sorted(original_approvers)}); "
         f"record restored: {restored}")

    cloud.fakes.otys.fail_next(400, count=20, method="")  # the ATS starts refusing every call
    failing = [_approve_pair(client, "otys", f"err{n}") for n in range(3)]
    paused = client.outputs["KillSwitchParameterName"]
    def switch_value() -> str:
        return str(client.boto("ssm").get_parameter(Name=paused)["Parameter"]["Value"])

    wait_for("the kill switch", lambda: switch_value() == "true", timeout=90)
    tripped = switch_value() == "true"
    _say(f"kill switch tripped after {len(failing)} failed writes: every dispatcher is paused, team lead alerted")
    held = _ops_refused(cloud, "unpause", "--reason", "demo: Otys status enum fixed?", "--operator", "olga")
    _say(f"unpause refused while the alarm holds: {held.split(': ', 1)[-1].split('.')[0]}")
    # The enum is fixed and Otys accepts writes again. The alarm looks at a rolling day; the local cloud fast-
    # forwards it by recording the good attempts of that day, so the alarm goes back to OK.
    client.boto("cloudwatch").put_metric_data(Namespace="Foureyes", MetricData=[{
        "MetricName": "DispatchAttempts", "Value": 1000.0, "Unit": "Count",
        "Dimensions": [{"Name": "system", "Value": "otys"}, {"Name": "service", "Value": "foureyes"}]}])
    topic = client.outputs["KillSwitchTopicArn"]
    wait_for("the alarm to go back to OK", lambda: not [
        a for a in client.boto("cloudwatch").describe_alarms(ActionPrefix=topic)["MetricAlarms"]
        if a["StateValue"] == "ALARM"], timeout=90)
    _ops(cloud, "unpause", "--reason", "demo: Otys status enum fixed", "--operator", "olga")
    _say("unpaused by a human through `foureyes ops unpause` (audited); parked writes handed back")
    _ops(cloud, "shadow", "on", "--reason", "demo over", "--operator", "olga")
    live = [p for p in client.proposals()
            if (record := client.dispatch_record(p["proposal_id"])) and record["mode"] == "live"
            and record["status"] == "executed"]
    rolled_back = [p for p in client.proposals() if p["status"] == "rolled_back"]
    return {"dispatched_live": len(live), "rolled_back": len(rolled_back) if restored else 0,
            "kill_switch_tripped": tripped}


def scheduling(client: Any) -> dict[str, Any]:
    """A recruiter moves a candidate to the interview stage; the candidate books, then cancels."""
    import re

    import requests

    email = "noa.kuipers@example.org"
    client.post_webhook("otys", "demo-stage-delivery", {
        "id": "ot-3001", "first_name": "Noa", "last_name": "Kuipers", "emails": [email], "status": "Interview",
        "role_id": "R-1001", "time_zone": "Europe/Amsterdam"}).raise_for_status()
    invite = client.mail_for(lambda m: email in m["to"] and m["subject"] == "Plan your interview",
                             "the booking invitation", timeout=60)
    link = next(u for u in invite["links"] if "/book/" in u)
    page = requests.get(link, timeout=30).text
    slots = re.findall(r'name="slot" id="[^"]+" value="([^"]+)"', page)
    requests.post(link, data={"action": "hold", "slot": slots[0]}, timeout=30).raise_for_status()
    booked = requests.post(link, data={"action": "confirm", "slot": slots[0]}, timeout=30, allow_redirects=False)
    manage = booked.headers["Location"]
    if "Your interview is booked" not in requests.get(manage, timeout=30).text:
        raise RuntimeError("the booking did not go through")
    _say(f"booking: the candidate chose one of {len(slots)} slots through the page (interviewer hold confirmed)")
    requests.post(manage, data={"action": "cancel", "sure": "yes"}, timeout=30).raise_for_status()
    again = requests.get(link, timeout=30).text
    freed = slots[0] in again or "cancelled" in again
    _say(f"cancellation through the candidate's link: slot free again: {freed}")
    bookings = client.bookings()
    return {"bookings": len(bookings), "cancellations": sum(1 for b in bookings if b["status"] == "cancelled")}


def audit_sealed(cloud: Any) -> dict[str, Any]:
    """The story's audit trail sealed (a signed digest in the locked bucket) and verified against the seal."""
    sealed = _ops(cloud, "audit-seal").strip().splitlines()[0]
    _say(f"audit trail sealed: {sealed}")
    verified = _ops(cloud, "audit-verify")
    if "audit trail intact" not in verified:
        raise RuntimeError(f"the audit trail does not verify: {verified.strip()}")
    _say("audit trail verified against the signed digest: " + verified.strip().splitlines()[0])
    return {"audit": verified.strip().splitlines()[0]}


def _wait_dispatched(client: Any, proposal_id: str) -> dict[str, Any]:
    from foureyes_local.client import wait_for

    def record() -> dict[str, Any] | None:
        found: dict[str, Any] | None = client.dispatch_record(proposal_id)
        return found

    def succeeded() -> bool:
        return bool(client.execution(proposal_id)["status"] == "SUCCEEDED")

    dispatch = wait_for(f"the shadow dispatch of {proposal_id}", record, timeout=60)
    wait_for(f"execution {proposal_id} to succeed", succeeded, timeout=60)
    return dispatch


def run(args: argparse.Namespace) -> int:
    from foureyes_local.client import LocalClient
    from foureyes_local.cloud import LocalCloud

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("moto").setLevel(logging.CRITICAL)  # failed executions are part of the story
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="foureyes-demo-") as state:
        # Demo settings: parameters cached 1 s, and the kill switch judges after 3 attempts (default 20).
        cloud = LocalCloud(state_dir=Path(state), schedules=False,
                           parameters={"ParametersCacheSeconds": "1", "KillSwitchMinAttempts": "3"})
        try:
            cloud.start()
            described = cloud.describe()
            _say(f"local cloud up: API {described['api']}")
            client = LocalClient(api=described["api"], aws=described["aws"], outputs=described["outputs"])
            summary = story(client)
            # A recruiter marks one of the shadowed duplicates in Carerix by hand: what agreement measures.
            client.post_webhook("carerix", "demo-recruiter-tag", {**dict(STORY[3][1]), "tags": [
                "duplicate-of:carerix:cx-1002"]}).raise_for_status()
            summary.update(dispatch_safety(cloud, client))
            summary.update(scheduling(client))
            summary["agreement"] = " ".join(_ops(cloud, "agreement").strip().splitlines()[-1].split())
            summary.update(audit_sealed(cloud))
        except Exception as exc:  # noqa: BLE001 - the demo reports what failed and exits non-zero
            print(f"DEMO FAILED: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            cloud.stop()
    summary["seconds"] = round(time.monotonic() - started, 1)
    print("DEMO SUMMARY " + json.dumps(summary, sort_keys=True), flush=True)
    return 0
