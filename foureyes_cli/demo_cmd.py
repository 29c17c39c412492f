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
    return {
        "pulled": pulled,
        "proposals": len(all_proposals),
        "approved": sum(1 for f in final.values() if f["status"] in ("approved", "shadowed", "executed")),
        "dispatched": len(dispatched),
        "shadow_mode": all(d["mode"] == "shadow" for d in dispatched),
        "tie_breaks": 1,
        "deciders": decisions,
        "namesakes_proposed": 0,
    }


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
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="foureyes-demo-") as state:
        cloud = LocalCloud(state_dir=Path(state), schedules=False)
        try:
            cloud.start()
            described = cloud.describe()
            _say(f"local cloud up: API {described['api']}")
            client = LocalClient(api=described["api"], aws=described["aws"], outputs=described["outputs"])
            summary = story(client)
        except Exception as exc:  # noqa: BLE001 - the demo reports what failed and exits non-zero
            print(f"DEMO FAILED: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            cloud.stop()
    summary["seconds"] = round(time.monotonic() - started, 1)
    print("DEMO SUMMARY " + json.dumps(summary, sort_keys=True), flush=True)
    return 0
