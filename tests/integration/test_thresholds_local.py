"""`foureyes ops thresholds` on the local cloud: proposals decided through the real review links, a near-miss
promoted and approved, a pair a recruiter tagged in the ATS become labels; the command prints the curve, writes the
chart and publishes it for the dashboard; `--apply` changes the match configuration (audited) and the Match function
decides the next pair of the same shape differently."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

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
    post("otys", {**twin, "id": f"t4b{run}", "date_of_birth": "1979-11-23", "emails": [f"i.dekker.{run}@hotmail.com"]})
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
