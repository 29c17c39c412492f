"""`foureyes ops thresholds` on the local cloud: proposals decided through the real review links, a near-miss
promoted and approved, a pair a recruiter tagged in the ATS become labels; the command prints the curve, writes the
chart and publishes it for the dashboard; `--apply` changes the match configuration (audited) and the Match function
decides the next pair of the same shape differently. `--refine` folds thirty four-eyes approvals into the calibrated
scorer's m (audited, only `fs` changes) and the Match function weighs the next pair with the new m."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from foureyes.matching.fs import COMPARISONS, LEVELS, code_of_names, decode
from foureyes.matching.score import MatchConfig
from foureyes.matching.thresholds import PAIR_ACTIONS
from foureyes_local.client import LocalClient, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _ops(cloud: object, *args: str) -> subprocess.CompletedProcess[str]:
    endpoints = Path(cloud.state_dir) / "endpoints.json"  # type: ignore[attr-defined]
    return subprocess.run([sys.executable, "-m", "foureyes_cli.main", "ops", "--local", str(endpoints), "thresholds",
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=180)


def _counts(cloud: object) -> dict[str, int]:
    """The label counts `ops thresholds` prints (this session's other tests decide proposals too: compare deltas)."""
    out = _ops(cloud, "--no-publish")
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout

    def number(pattern: str) -> int:
        found = re.search(pattern, text)
        return int(found.group(1)) if found else 0

    return {"reviewed": number(r"(\d+) reviewed pair\(s\)"), "promoted": number(r"(\d+) on promoted near-misses"),
            "same": number(r"(\d+) said 'same person'"), "recruiter": number(r"(\d+) pair\(s\) recruiters merged"),
            "never scored": number(r"(\d+) the matcher never scored"),
            "data_error": number(r"not a label: (\d+) rejected: data_error")}


def _decide_both(client: LocalClient, proposal_id: str, decision: str, reason: str, until: str) -> None:
    for stage in ("review", "second approval"):
        link, _ = client.review_link(proposal_id, stage)
        assert client.decide(link, decision, reason).status_code == 200
    wait_for(f"proposal {proposal_id} {until}", lambda: client.proposal(proposal_id)["status"] in until.split("|"))


def _person(tag: str, first: str, last: str, **fields: Any) -> dict[str, Any]:
    return {"id": f"{tag}", "first_name": first, "last_name": last, **fields}


def test_thresholds_from_decisions_apply_and_the_matcher_follows(cloud: object, client: LocalClient,
                                                                 tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:6]
    before = _counts(cloud)

    def post(system: str, record: dict[str, Any]) -> None:
        client.post_webhook(system, f"thr-{run}-{record['id']}-{uuid.uuid4().hex[:4]}", record)

    # 1. same e-mail, name and date of birth: approved by both -> "same person"
    post("otys", _person(f"t1a{run}", "Noor", f"Visser{run}", date_of_birth="1988-04-12",
                         emails=[f"noor.visser.{run}@gmail.com"]))
    post("otys", _person(f"t1b{run}", "Noor", f"Visser{run}", date_of_birth="1988-04-12",
                         emails=[f"n.o.o.r.visser.{run}@gmail.com"]))
    same = client.proposal_for(f"otys:t1a{run}")["proposal_id"]
    _decide_both(client, same, "approve", "same_person", "approved|shadowed")
    # 2. namesakes born the same day, nothing else in common (review by the name + date of birth rule):
    #    rejected as different people
    post("carerix", _person(f"t2c{run}", "Sem", f"Bakker{run}", date_of_birth="1991-03-04",
                            emails=[f"sem.{run}@bakker-groep.nl"]))
    post("carerix", _person(f"t2d{run}", "Sem", f"Bakker{run}", date_of_birth="1991-03-04",
                            emails=[f"sembakker{run}@hotmail.com"]))
    different = client.proposal_for(f"carerix:t2d{run}")["proposal_id"]
    _decide_both(client, different, "reject", "different_people", "rejected")
    # 3. one e-mail and the name in common: rejected because one record holds wrong data -> no label, counted
    post("otys", _person(f"t3a{run}", "Daan", f"Meijer{run}", emails=[f"desk.{run}@meijerbos.nl"]))
    post("otys", _person(f"t3b{run}", "Daan", f"Meijer{run}", emails=[f"desk.{run}@meijerbos.nl"]))
    wrong_data = client.proposal_for(f"otys:t3b{run}")["proposal_id"]
    _decide_both(client, wrong_data, "reject", "data_error", "rejected")
    # 4. the same name and year of birth, another day and month, nothing else: a near-miss, promoted when it
    #    surfaces again, then approved
    ddb = client.boto("dynamodb")
    near_misses = client.outputs["NearMissesTableName"]
    twin = {"first_name": "Ilse", "last_name": f"Dekker{run}"}
    post("carerix", {**twin, "id": f"t4a{run}", "date_of_birth": "1979-02-03",
                     "emails": [f"ilse.{run}@dekker-advies.nl"]})
    post("otys", {**twin, "id": f"t4b{run}", "date_of_birth": "1979-11-23",
                  "emails": [f"i.dekker.{run}@hotmail.com"]})
    pair = f"carerix:t4a{run}|otys:t4b{run}"
    logged = wait_for("the near-miss", lambda: ddb.get_item(TableName=near_misses, Key={"pair": {"S": pair}},
                                                              ConsistentRead=True).get("Item"))
    near_miss_score = float(logged["score"]["N"])
    post("otys", {**twin, "id": f"t4b{run}", "date_of_birth": "1979-11-23", "emails": [f"i.dekker.{run}@hotmail.com"],
                  "status": "available"})
    promoted = client.proposal_for(f"carerix:t4a{run}")["proposal_id"]
    _decide_both(client, promoted, "approve", "same_person", "approved|shadowed")
    # 5. a recruiter tags two records that share nothing as duplicates in the ATS: a true pair the matcher missed
    post("otys", _person(f"t5a{run}", "Ruben", f"Kramer{run}"))
    post("otys", _person(f"t5b{run}", "R.", f"Kramer-Hoekstra{run}", tags=[f"Duplicate-of:otys:t5a{run}"]))

    def settled() -> dict[str, int] | None:
        now = _counts(cloud)
        return now if now["recruiter"] > before["recruiter"] else None

    after = wait_for("the recruiter's tag in the labels", settled, timeout=30, interval=1)
    assert after["reviewed"] - before["reviewed"] == 3  # 1, 2 and 4; not 3 (a data error says nothing)
    assert after["same"] - before["same"] == 2
    assert after["promoted"] - before["promoted"] == 1
    assert after["data_error"] - before["data_error"] == 1
    assert after["recruiter"] - before["recruiter"] == 1 and after["never scored"] - before["never scored"] == 1

    # The curve, the chart and the dashboard's metrics.
    chart = tmp_path / "curve.html"
    out = _ops(cloud, "--min-labels", "3", "--out", str(chart))
    assert out.returncode == 0, out.stderr
    assert "precision at t" in out.stdout and "<- current review" in out.stdout and "suggested review" in out.stdout
    assert f"{near_miss_score:>10.4g}" in out.stdout  # the promoted near-miss's score is a row of the curve
    page = chart.read_text()
    assert "<svg" in page and 'class="precision"' in page and 'class="recall"' in page and f"t1a{run}" not in page
    cloudwatch = client.boto("cloudwatch")
    namespace = client.outputs["MetricsNamespace"]
    recall = cloudwatch.list_metrics(Namespace=namespace, MetricName="ThresholdRecall")["Metrics"]
    assert {d["Value"] for m in recall for d in m["Dimensions"] if d["Name"] == "point"} >= {"p01", "p02"}
    dashboard = cloudwatch.get_dashboard(DashboardName=client.outputs["OpsDashboardName"])["DashboardBody"]
    assert "ThresholdPrecisionLow" in dashboard and "ThresholdRecall" in dashboard

    # Refusals name what is missing or wrong and change nothing.
    ssm = client.boto("ssm")
    parameter = client.outputs["MatchConfigParameterName"]
    original = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    config = json.loads(original)
    no_reason = _ops(cloud, "--apply", "--review", str(near_miss_score))
    assert no_reason.returncode == 2 and "--reason is required" in no_reason.stderr
    upside_down = _ops(cloud, "--apply", "--review", "5", "--hard", "4", "--reason", "test")
    assert upside_down.returncode == 2 and "--hard (4) must be >= --review (5)" in upside_down.stderr
    assert ssm.get_parameter(Name=parameter)["Parameter"]["Value"] == original

    # Apply: the review threshold down to the near-miss's score; the next pair of that shape goes to review at once.
    operator = f"olga-{run}"
    try:
        applied = _ops(cloud, "--apply", "--review", repr(near_miss_score), "--reason", "test: tuned from decisions",
                       "--operator", operator)
        assert applied.returncode == 0, applied.stderr
        assert re.search(r"review_threshold\s+\S+ -> " + re.escape(f"{near_miss_score:g}"), applied.stdout)
        stored = json.loads(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
        assert stored["review_threshold"] == near_miss_score
        def rest(cfg: dict[str, Any]) -> dict[str, Any]:  # everything but the two thresholds, flat or nested
            nested = {k: v for k, v in cfg.get("thresholds", {}).items() if k not in ("hard", "review")}
            flat = {k: v for k, v in cfg.items() if k not in ("hard_threshold", "review_threshold", "thresholds")}
            return {**flat, **({"thresholds": nested} if nested else {})}

        assert rest(stored) == rest(config)
        rows = [row for row in ddb.scan(TableName=client.outputs["AuditTableName"], ConsistentRead=True)["Items"]
                if row["event"]["S"] == "thresholds.changed" and row["actor"]["S"] == operator]
        assert len(rows) == 1
        details = json.loads(rows[0]["details"]["S"]) if "S" in rows[0]["details"] else rows[0]["details"]
        assert "tuned from decisions" in json.dumps(details) and f"{near_miss_score}" in json.dumps(details)
        time.sleep(2)  # the functions' parameter cache (ParametersCacheSeconds=1 in the test cloud)
        other = {"first_name": "Ilse", "last_name": f"Hendriks{run}"}
        post("carerix", {**other, "id": f"t6a{run}", "date_of_birth": "1983-07-19",
                         "emails": [f"ilse.{run}@hendriks-bouw.nl"]})
        post("otys", {**other, "id": f"t6b{run}", "date_of_birth": "1983-12-02",
                      "emails": [f"i.hendriks.{run}@hotmail.com"]})
        first_sight = client.proposal_for(f"carerix:t6a{run}")
        assert first_sight["action"] == "tag_duplicate"
        new_pair = f"carerix:t6a{run}|otys:t6b{run}"
        assert ddb.get_item(TableName=near_misses, Key={"pair": {"S": new_pair}}).get("Item") is None
    finally:
        ssm.put_parameter(Name=parameter, Value=original, Type="String", Overwrite=True)
        time.sleep(2)


def _letters(number: int, width: int) -> str:
    """`number` in letters a-p: a name suffix the name comparison sees whole (hex digits in a name might not be)."""
    return "".join(chr(ord("a") + (number >> (4 * i)) % 16) for i in reversed(range(width)))


def _audited(client: LocalClient, event: str, actor: str) -> list[dict[str, Any]]:
    rows = client.boto("dynamodb").scan(TableName=client.outputs["AuditTableName"], ConsistentRead=True)["Items"]
    return [json.loads(row["details"]["S"]) for row in rows
            if row["event"]["S"] == event and row["actor"]["S"] == actor]


def _pair_proposals(client: LocalClient, refs: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """The matcher's pair proposal (merge or duplicate tag) of each of `refs`, once there is one for every ref (the
    matcher may also propose a note on a record, e.g. on dates of birth that differ)."""
    wanted = set(refs)

    def all_there() -> dict[str, dict[str, Any]] | None:
        found = {ref: p for p in client.proposals() if p["action"] in PAIR_ACTIONS for ref in p.get("refs", [])
                 if ref in wanted}
        return found if len(found) == len(wanted) else None

    return wait_for(f"pair proposals for {len(wanted)} record(s)", all_there, timeout=timeout, interval=0.5)


CONFIRMED = 30  # pairs reviewers confirm as one person below: enough for --refine on their own (30)


def test_refine_folds_reviewers_decisions_into_m_and_the_matcher_follows(cloud: object, client: LocalClient) -> None:
    """30 pairs whose dates of birth are one digit apart (a level the default m thinks rare among one person's
    records: 0.05), each approved by two reviewers through the review links, and two pairs of namesakes rejected as
    different people: `--refine` raises m of "date of birth one digit apart", writes only `fs` (audited), and the
    Match function scores the next pair of that shape with the new weights."""
    run = uuid.uuid4().hex[:6]
    word = _letters(int(run, 16), 6)
    operator = f"rita-{run}"
    ssm = client.boto("ssm")
    parameter = client.outputs["MatchConfigParameterName"]
    original = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]

    # Refusals: the arguments alone (no stack asked), then too few "same person" decisions in the stack.
    no_reason = _ops(cloud, "--refine", "--operator", operator)
    assert no_reason.returncode == 2 and "--reason is required with --refine" in no_reason.stderr
    with_apply = _ops(cloud, "--refine", "--apply", "--review", "5", "--reason", "test", "--operator", operator)
    assert with_apply.returncode == 2 and "--refine and --apply are two changes" in with_apply.stderr
    too_few = _ops(cloud, "--refine", "--reason", "test: too early", "--operator", operator)
    found = re.search(r"--refine needs at least 30 reviewed pairs decided to be one person .*; there are (\d+)",
                      too_few.stderr)
    assert too_few.returncode == 2 and found, too_few.stdout + too_few.stderr
    already = int(found.group(1))  # this session's other tests decide pairs too
    assert already < 30, f"{already} pairs decided 'same person' before this test: the refusal cannot be tested"
    assert ssm.get_parameter(Name=parameter)["Parameter"]["Value"] == original
    assert _audited(client, "match_params.refined", operator) == []

    def post(system: str, record: dict[str, Any]) -> None:
        client.post_webhook(system, f"ref-{run}-{record['id']}-{uuid.uuid4().hex[:4]}", record)

    def typo_pair(tag: str, year: int) -> str:
        """Two records of one person: same name and e-mail address, the day of birth one digit apart."""
        person = {"first_name": "Lotte", "last_name": f"Smit{word}{tag}", "emails": [f"lotte.smit.{word}{tag}@kpn.nl"]}
        system = ("otys", "carerix")[year % 2]
        post(system, {**person, "id": f"r{tag}a{run}", "date_of_birth": f"{year}-05-14"})
        post(system, {**person, "id": f"r{tag}b{run}", "date_of_birth": f"{year}-05-15"})
        return f"{system}:r{tag}a{run}"

    # 1. Reviewers' decisions: all records posted first (the matcher works through them meanwhile), then every
    #    review stage decided, then every second approval.
    decisions: list[tuple[str, str, str]] = []  # (ref, decision, reason)
    for i in range(CONFIRMED):
        decisions.append((typo_pair(_letters(i, 2), 1960 + i), "approve", "same_person"))
    for i in range(2):  # namesakes born the same day, nothing else in common: different people
        tag = _letters(i, 2)
        namesake = {"first_name": "Bas", "last_name": f"Mulder{word}{tag}", "date_of_birth": f"{1970 + i}-08-21"}
        post("carerix", {**namesake, "id": f"n{tag}a{run}", "emails": [f"bas.{word}{tag}@mulder-bv.nl"]})
        post("carerix", {**namesake, "id": f"n{tag}b{run}", "emails": [f"bmulder.{word}{tag}@hotmail.com"]})
        decisions.append((f"carerix:n{tag}b{run}", "reject", "different_people"))
    by_ref = _pair_proposals(client, [ref for ref, _, _ in decisions], timeout=120)
    proposals = [(by_ref[ref], decision, reason) for ref, decision, reason in decisions]
    assert all("dob:typo" in p["evidence"] for p, decision, _ in proposals if decision == "approve"), proposals[0]
    for stage in ("review", "second approval"):
        for proposal, decision, reason in proposals:
            link, _ = client.review_link(proposal["proposal_id"], stage, timeout=60)
            assert client.decide(link, decision, reason).status_code == 200
    def settled() -> bool:
        return all(client.proposal(p["proposal_id"])["status"] in (("approved", "shadowed") if decision == "approve"
                                                                   else ("rejected",)) for p, decision, _ in proposals)

    wait_for("every decided proposal approved (or shadowed) or rejected", settled, timeout=60, interval=0.5)
    before_score = float(proposals[0][0]["score"])

    # 2. The refinement, as an operator runs it.
    old = MatchConfig.from_mapping(json.loads(original))
    dob, email = COMPARISONS.index("dob"), COMPARISONS.index("email")
    typo, exact, email_exact = LEVELS["dob"].index("typo"), LEVELS["dob"].index("exact"), LEVELS["email"].index("exact")
    try:
        refined = _ops(cloud, "--refine", "--reason", "test: reviewers confirm one-digit birth dates",
                       "--operator", operator)
        assert refined.returncode == 0, refined.stdout + refined.stderr
        summary = re.search(r"m refined from (\d+) reviewed pairs \((\d+) one person\)", refined.stdout)
        assert summary, refined.stdout
        assert int(summary.group(2)) == already + CONFIRMED and int(summary.group(1)) >= already + CONFIRMED + 2
        stored = json.loads(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
        new = MatchConfig.from_mapping(stored)
        # the level reviewers kept confirming is more likely among one person's records now; the one they never
        # saw in these pairs (the same date of birth) less; u, the prior, the thresholds and the rest as they were
        assert new.fs.m[dob][typo] > old.fs.m[dob][typo] + 0.2
        assert new.fs.m[dob][exact] < old.fs.m[dob][exact]
        assert new.fs.m[email][email_exact] > old.fs.m[email][email_exact]
        assert replace(new.fs, m=old.fs.m, source=old.fs.source) == old.fs
        assert new.thresholds == old.thresholds and new.near_miss_threshold == old.near_miss_threshold
        assert {k: v for k, v in stored.items() if k != "fs"} == {k: v for k, v in json.loads(original).items()
                                                                 if k != "fs"}
        assert "refined from" in new.fs.source
        assert f"dob:typo       {old.fs.m[dob][typo]:.4f} -> {new.fs.m[dob][typo]:.4f}" in refined.stdout
        rows = _audited(client, "match_params.refined", operator)
        assert len(rows) == 1
        assert "reviewers confirm one-digit birth dates" in rows[0]["reason"]
        assert json.loads(rows[0]["new_m"]) == stored["fs"]["m"] and rows[0]["same"] == str(already + CONFIRMED)

        # The Match function reads the parameter (after its cache time) and weighs the next such pair with the new
        # m: its score differs from the confirmed pairs' by exactly the change of its three levels' weights.
        time.sleep(2)  # the functions' parameter cache (ParametersCacheSeconds=1 in the test cloud)
        ref = typo_pair("zz", 1959)
        after = _pair_proposals(client, [ref], timeout=60)[ref]
        levels = decode(code_of_names(after["evidence"]))
        expected = sum(math.log2(new.fs.m[c][level] / old.fs.m[c][level]) for c, level in enumerate(levels))
        assert float(after["score"]) - before_score == pytest.approx(expected, abs=0.01), after["reasoning"]
    finally:
        ssm.put_parameter(Name=parameter, Value=original, Type="String", Overwrite=True)
        time.sleep(2)
